import { dirname, join } from "node:path";

/** Relative to the working directory: run ronctl from the repository root. */
export const DEFAULT_REGISTRY_FILE = "registry/app_proto_ids.json";

export const KEYS_OPTION_HELP =
  "directory of owner public keys, <key id>.pub.pem (default: keys/ next to --file)";

/** Owner public keys sit in `keys/` next to the registry file unless --keys says otherwise. */
export function keysDirFor(file: string, keys: string | undefined): string {
  return keys ?? join(dirname(file), "keys");
}
