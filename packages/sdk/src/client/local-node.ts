import { existsSync, readFileSync } from "node:fs";
import { isIP } from "node:net";
import { join, resolve } from "node:path";
import { CAP_ENV, type Environment } from "./capability.js";
import { nodeDataDir } from "./data-dir.js";
import type { ConnectOptions } from "./options.js";
import { CA_FILE_ENV } from "./trust.js";

/** Where a node keeps the dev CA and dev capability it makes on first start. */
export interface LocalDevFiles {
  /** `<data dir>/tls/ca.pem` */
  caFile: string;
  /** `<data dir>/auth/dev.cap` */
  capFile: string;
}

export function localDevFiles(env: Environment = process.env): LocalDevFiles {
  const dir = nodeDataDir(env);
  return { caFile: join(dir, "tls", "ca.pem"), capFile: join(dir, "auth", "dev.cap") };
}

/** 127.0.0.0/8, ::1 and localhost: a node on this machine. */
export function isLoopbackHost(host: string): boolean {
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  return host === "::1" || host === "0:0:0:0:0:0:0:1";
}

/**
 * For a node on this machine, the dev CA and dev capability its data dir holds, so that
 * `npm start` and then any client work with no settings. The CA is used only when the caller
 * chose no trust of its own (ca, caFile, fingerprint, insecure, $RON_CA_FILE); the capability
 * only when the caller gave none (cap, capProvider, $RON_CAP) and trusts that same node's CA,
 * so a local node's capability is never sent to a node it did not issue.
 */
export function withLocalDevCredentials(
  options: ConnectOptions,
  host: string,
  env: Environment = process.env,
): ConnectOptions {
  if (!isLoopbackHost(host)) return options;
  const files = localDevFiles(env);
  const trustGiven =
    options.ca !== undefined ||
    options.caFile !== undefined ||
    options.fingerprint !== undefined ||
    options.insecure === true ||
    Boolean(env[CA_FILE_ENV]);
  const devCa = !trustGiven && existsSync(files.caFile) ? files.caFile : undefined;
  const caFile = devCa ?? (options.ca === undefined ? (options.caFile ?? env[CA_FILE_ENV]) : undefined);
  const trustsLocalNode = caFile !== undefined && resolve(caFile) === resolve(files.caFile);
  const capGiven = options.cap !== undefined || options.capProvider !== undefined || Boolean(env[CAP_ENV]);
  const cap = !capGiven && trustsLocalNode ? readDevCap(files.capFile) : undefined;
  return { ...options, ...(devCa ? { caFile: devCa } : {}), ...(cap ? { cap } : {}) };
}

function readDevCap(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8").trim() || undefined;
  } catch {
    // No dev capability (capabilities off, or another user's node): send none.
    return undefined;
  }
}
