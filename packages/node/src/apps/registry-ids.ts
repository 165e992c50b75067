import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ConfigError } from "../config/error.js";

/** The registry shipped with the node: `registry/app_proto_ids.json` at the repository root. */
export const DEFAULT_REGISTRY_FILE = fileURLToPath(
  new URL("../../../../registry/app_proto_ids.json", import.meta.url),
);

/**
 * The app_proto_ids the registry knows, from `{ "entries": [{ "id": "0x1001", … }] }`. The one
 * place the node reads the registry: the node routes registered ids (0x1000–0xEFFF) only when
 * they are listed here. `file` "" means the registry shipped with the node.
 */
export function registeredAppIds(file: string): Set<number> {
  const path = file || DEFAULT_REGISTRY_FILE;
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new ConfigError(`cannot read the app registry ${path}: ${(err as Error).message}`);
  }
  const entries = (doc as { entries?: unknown } | null)?.entries;
  if (!Array.isArray(entries)) throw new ConfigError(`the app registry ${path} has no "entries" array`);
  const ids = new Set<number>();
  for (const entry of entries) {
    const id = (entry as { id?: unknown } | null)?.id;
    if (typeof id !== "string" || !/^0x[0-9a-f]{4}$/.test(id)) {
      throw new ConfigError(
        `the app registry ${path} has an entry whose id is not "0x" and 4 lowercase hex digits`,
      );
    }
    ids.add(Number.parseInt(id.slice(2), 16));
  }
  return ids;
}
