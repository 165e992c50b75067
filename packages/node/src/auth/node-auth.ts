import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { NodeConfig } from "../config/index.js";
import { writeAtomic } from "../fs/write-atomic.js";
import type { Logger } from "../log.js";
import { Authority } from "./authority.js";

/** What `omnigate` prints at start so a new user can make a first authorized call. */
export interface AuthSummary {
  mode: "on" | "off";
  /** base64url dev capability for tenant 0 (what `RON_CAP` takes); undefined with auth off. */
  devCap: string | undefined;
  devCapPath: string | undefined;
  /** Bearer token of the admin capability API, and the file it is kept in. */
  adminTokenPath: string;
}

export interface NodeAuth {
  authority: Authority;
  /** Bearer token of the admin capability API (the composition root builds the API with it). */
  adminToken: string;
  summary: AuthSummary;
}

/** A new bearer token for the admin capability API: 24 random bytes, base64url. */
export function newAdminToken(): string {
  return randomBytes(24).toString("base64url");
}

/**
 * The node's capability setup from its config: root keys, revocations and the audit log in
 * `<data dir>/auth/`, the admin API's bearer token (made on first start, mode 0600) and the
 * dev capability printed at start.
 */
export async function startNodeAuth(config: NodeConfig, log: Logger): Promise<NodeAuth> {
  const dir = join(config.dataDir, "auth");
  const mode = config.authMode;
  const authority = await Authority.open({
    dir,
    rootKeysFile: config.authRootKeysFile,
    nodeId: config.nodeId,
    log,
    settings: {
      mode,
      keyGraceMs: config.authKeyGraceMs,
      skewSeconds: config.authSkewSeconds,
      redisUrl: config.authRedisUrl,
      devCapTtlSeconds: config.authDevCapTtlSeconds,
    },
  });
  const adminTokenPath = join(dir, "admin.token");
  let adminToken = (await readFile(adminTokenPath, "utf8").catch(() => "")).trim();
  if (!adminToken) {
    adminToken = newAdminToken();
    await writeAtomic(adminTokenPath, `${adminToken}\n`, 0o600);
  }
  let devCap: { token: string; path: string | undefined } | undefined;
  if (mode === "on") {
    devCap = await authority.devCapability();
  } else {
    log.warn(
      'auth.mode = "off": requests are not checked for capabilities; use this for local experiments only',
    );
  }
  return {
    authority,
    adminToken,
    summary: { mode, devCap: devCap?.token, devCapPath: devCap?.path, adminTokenPath },
  };
}
