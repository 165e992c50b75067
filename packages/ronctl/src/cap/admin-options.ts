import { readFileSync } from "node:fs";
import { nodeDataDir } from "@omnigate/sdk";
import type { Command } from "commander";
import { CommandRefused } from "../errors.js";
import { adminTokenFile } from "./data-dir.js";

export const DEFAULT_ADMIN_URL = "http://127.0.0.1:9600";

/** The options every command that talks to a node's admin API takes. */
export interface AdminOptions {
  admin?: string;
  adminToken?: string;
  dataDir?: string;
}

/** Where to send admin requests and with which token; `tokenFrom` says where it came from. */
export interface AdminTarget {
  url: URL;
  token: string;
  tokenFrom: string;
  /** The file the node keeps its token in: what a 401 points the user to. */
  tokenFile: string;
}

export function withAdminOptions(command: Command): Command {
  return command
    .option("--admin <url>", `the node's admin address (env RON_ADMIN_URL, default ${DEFAULT_ADMIN_URL})`)
    .option(
      "--admin-token <token>",
      "admin API bearer token (env RON_ADMIN_TOKEN; default: read it from --data-dir)",
    )
    .option(
      "--data-dir <dir>",
      "the node's data directory, to read <dir>/auth/admin.token (env OMNIGATE_DATA_DIR, default: the node's default)",
    );
}

/** Flag > env > default for the URL; flag > env > the data dir's file for the token. */
export function resolveAdminTarget(opts: AdminOptions, env: NodeJS.ProcessEnv = process.env): AdminTarget {
  const url = parseAdminUrl(opts.admin ?? env.RON_ADMIN_URL ?? DEFAULT_ADMIN_URL);
  const tokenFile = adminTokenFile(opts.dataDir ?? nodeDataDir(env));
  if (opts.adminToken !== undefined)
    return { url, token: opts.adminToken, tokenFrom: "--admin-token", tokenFile };
  if (env.RON_ADMIN_TOKEN)
    return { url, token: env.RON_ADMIN_TOKEN, tokenFrom: "RON_ADMIN_TOKEN", tokenFile };
  return { url, token: readTokenFile(tokenFile), tokenFrom: tokenFile, tokenFile };
}

/** Accepts `http://host:port` or the node's own `admin` config form, `host:port`. */
export function parseAdminUrl(text: string): URL {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new CommandRefused(`--admin must be an address like ${DEFAULT_ADMIN_URL}, got "${text}"`);
  }
  if (url.protocol !== "http:") {
    throw new CommandRefused(
      `the admin API is plain HTTP on the admin port; --admin must start with http://, got "${text}"`,
    );
  }
  return url;
}

function readTokenFile(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT" ? "does not exist" : code === "EACCES" ? "is not readable by you" : String(err);
    throw new CommandRefused(
      `no admin token: ${file} ${why}. The node writes it on first start in its data directory; ` +
        "pass that directory with --data-dir (or OMNIGATE_DATA_DIR), or the token itself with --admin-token (or RON_ADMIN_TOKEN)",
    );
  }
  const token = text.trim();
  if (token === "") throw new CommandRefused(`no admin token: ${file} is empty`);
  return token;
}
