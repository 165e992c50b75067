import { homedir } from "node:os";
import { join } from "node:path";

/** The per-user data directory, following each platform's convention. */
export function defaultDataDir(): string {
  const env = process.env;
  if (process.platform === "win32")
    return join(env.LOCALAPPDATA ?? join(homedir(), "AppData", "Local"), "omnigate");
  if (process.platform === "darwin") return join(homedir(), "Library", "Application Support", "omnigate");
  return join(env.XDG_DATA_HOME || join(homedir(), ".local", "share"), "omnigate");
}
