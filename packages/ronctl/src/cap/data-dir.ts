import { homedir } from "node:os";
import { join } from "node:path";

/**
 * The node's default data directory, restated from packages/node/src/config/data-dir.ts
 * (ronctl may not import the node; keep the two in step). `OMNIGATE_DATA_DIR` overrides it
 * for ronctl as it does for the node.
 */
export function nodeDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.OMNIGATE_DATA_DIR) return env.OMNIGATE_DATA_DIR;
  if (process.platform === "win32")
    return join(env.LOCALAPPDATA ?? join(homedir(), "AppData", "Local"), "omnigate");
  if (process.platform === "darwin") return join(homedir(), "Library", "Application Support", "omnigate");
  return join(env.XDG_DATA_HOME || join(homedir(), ".local", "share"), "omnigate");
}

/** Where the node keeps the bearer token its admin API asks for. */
export function adminTokenFile(dataDir: string): string {
  return join(dataDir, "auth", "admin.token");
}
