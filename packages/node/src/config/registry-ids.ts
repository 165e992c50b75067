import { fileURLToPath } from "node:url";
import { openRegistry, RegistryError } from "@omnigate/registry";
import { ConfigError } from "./error.js";

/** The registry shipped with the node: `registry/app_proto_ids.json` at the repository root. */
export const DEFAULT_REGISTRY_FILE = fileURLToPath(
  new URL("../../../../registry/app_proto_ids.json", import.meta.url),
);

/**
 * The app_proto_ids the registry knows. The one place the node reads the registry: the node
 * routes registered ids (0x1000–0xEFFF) only when they are listed here. The whole registry is
 * verified first (schema, ranges, every owner signature against `keys/` next to it), so a
 * tampered or half-valid registry never decides what gets routed. `file` "" means the
 * registry shipped with the node.
 */
export function registeredAppIds(file: string): Set<number> {
  const path = file || DEFAULT_REGISTRY_FILE;
  try {
    return new Set(openRegistry({ file: path }).entries.map((e) => Number.parseInt(e.id.slice(2), 16)));
  } catch (err) {
    if (err instanceof RegistryError) {
      const first = err.problems
        .slice(0, 3)
        .map((p) => p.message)
        .join("; ");
      throw new ConfigError(
        `the app registry ${path} does not verify (${err.problems.length} problem(s): ${first}); run \`npm run ronctl -- registry verify --file ${path}\``,
      );
    }
    throw new ConfigError(`cannot read the app registry ${path}: ${(err as Error).message}`);
  }
}
