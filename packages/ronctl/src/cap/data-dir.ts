import { join } from "node:path";

/** Where the node keeps the bearer token its admin API asks for. */
export function adminTokenFile(dataDir: string): string {
  return join(dataDir, "auth", "admin.token");
}
