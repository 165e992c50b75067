import { join } from "node:path";
import { describeRange, idRange, parseAppProtoId } from "./ids.js";
import { type Keyring, PUBLIC_KEY_SUFFIX } from "./keyring.js";
import type { IndexedEntry, LoadedRegistry } from "./load.js";
import type { EntryRef, RegistryProblem } from "./problems.js";
import { verifyEntrySignature } from "./signing.js";

/** Control and platform ids belong to the project: only keys named `omnigate-*` may sign them. */
export const PROJECT_KEY_PREFIX = "omnigate-";

/**
 * The checks beyond the schema, on the entries that conform to it: unique ids and names,
 * ids in a registrable range, a known key, a signature that verifies. Every problem found.
 */
export function checkEntries(loaded: LoadedRegistry, keyring: Keyring): RegistryProblem[] {
  const problems: RegistryProblem[] = [];
  const file = loaded.file;
  const byId = new Map<string, IndexedEntry>();
  const byName = new Map<string, IndexedEntry>();
  for (const indexed of loaded.entries) {
    const { index, entry } = indexed;
    const ref: EntryRef = { index, id: entry.id, name: entry.name };
    const add = (kind: RegistryProblem["kind"], message: string) =>
      problems.push({ kind, file, entry: ref, message });

    const sameId = byId.get(entry.id);
    if (sameId) {
      add(
        "duplicate_id",
        `id ${entry.id} is already claimed by entry ${sameId.index} (${sameId.entry.name})`,
      );
    } else {
      byId.set(entry.id, indexed);
    }
    const sameName = byName.get(entry.name);
    if (sameName) {
      add(
        "duplicate_name",
        `name "${entry.name}" is already used by entry ${sameName.index} (${sameName.entry.id})`,
      );
    } else {
      byName.set(entry.name, indexed);
    }

    // The schema guarantees the 0x + 4 hex digits form.
    const range = idRange(parseAppProtoId(entry.id) ?? 0);
    if (range === "private") {
      add(
        "id_out_of_range",
        `${entry.id} is in the ${describeRange("private")} range, which is never registered; ` +
          `claim an id in ${describeRange("registered")}`,
      );
    } else if (range !== "registered" && !entry.key.startsWith(PROJECT_KEY_PREFIX)) {
      add(
        "core_id_needs_project_key",
        `${entry.id} is in ${describeRange(range)}, reserved for the Omnigate project; ` +
          `it must be signed by a project key (${PROJECT_KEY_PREFIX}*), not "${entry.key}"; ` +
          `apps claim ids in ${describeRange("registered")}`,
      );
    }

    const publicKey = keyring.keys.get(entry.key);
    if (!publicKey) {
      const expected = join(keyring.dir, `${entry.key}${PUBLIC_KEY_SUFFIX}`);
      add(
        "unknown_key",
        keyring.broken.has(entry.key)
          ? `key "${entry.key}" is not usable: ${expected} is broken (see its own problem)`
          : `no public key "${entry.key}": ${expected} does not exist; the owner adds it (REGISTRY.md)`,
      );
    } else if (!verifyEntrySignature(entry, publicKey)) {
      add(
        "bad_signature",
        `signature does not verify with key "${entry.key}": the entry changed after it was signed, ` +
          `or another key signed it; the owner re-signs with ` +
          `\`ronctl registry sign --key <${entry.key} private key> --id ${entry.id}\``,
      );
    }
  }
  return problems;
}
