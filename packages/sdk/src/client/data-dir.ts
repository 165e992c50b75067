import { homedir } from "node:os";
import { join } from "node:path";
import type { Environment } from "./capability.js";

/** Environment variable that moves a node's data directory (the node's `data_dir` setting). */
export const DATA_DIR_ENV = "OMNIGATE_DATA_DIR";

/** The per-user data directory a node uses by default, following each platform's convention. */
export function defaultDataDir(env: Environment = process.env): string {
  if (process.platform === "win32")
    return join(env.LOCALAPPDATA ?? join(homedir(), "AppData", "Local"), "omnigate");
  if (process.platform === "darwin") return join(homedir(), "Library", "Application Support", "omnigate");
  return join(env.XDG_DATA_HOME || join(homedir(), ".local", "share"), "omnigate");
}

/**
 * The data directory of the node on this machine, as its clients look for it:
 * `$OMNIGATE_DATA_DIR` (the same override the node honours), else the default.
 */
export function nodeDataDir(env: Environment = process.env): string {
  return env[DATA_DIR_ENV] || defaultDataDir(env);
}
