import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { canonicalJson } from "./canonical.js";
import { checkEntries } from "./check-entries.js";
import { loadKeyring } from "./keyring.js";
import { type IndexedEntry, loadRegistry } from "./load.js";
import type { RegistryProblem } from "./problems.js";
import { REGISTRY_SCHEMA } from "./schema.js";

/** Where the published schema sits next to the registry file. */
export const SCHEMA_FILE_NAME = "app_proto_ids.schema.json";

export interface VerifyOptions {
  /** The registry file, e.g. `registry/app_proto_ids.json`. */
  file: string;
  /** Owner public keys; default: `keys/` next to the registry file. */
  keysDir?: string;
  /**
   * The published schema to compare with the built-in one; default: `app_proto_ids.schema.json`
   * next to the registry file, checked only when it exists.
   */
  schemaFile?: string;
}

export interface RegistryReport {
  file: string;
  keysDir: string;
  /** How many entries the file lists, conforming or not. */
  entryCount: number;
  /** The entries that conform to the schema. */
  entries: IndexedEntry[];
  /** How many usable public keys the key directory holds. */
  keyCount: number;
  /** Every problem found, in the order: file and schema, key directory, entries. */
  problems: RegistryProblem[];
  ok: boolean;
}

/** Runs every registry check: schema, published schema, keys, unique ids and names, ranges, signatures. */
export function verifyRegistry(options: VerifyOptions): RegistryReport {
  const keysDir = options.keysDir ?? join(dirname(options.file), "keys");
  const loaded = loadRegistry(options.file);
  const keyring = loadKeyring(keysDir);
  const problems = [
    ...loaded.problems,
    ...checkSchemaFile(
      options.schemaFile ?? join(dirname(options.file), SCHEMA_FILE_NAME),
      !!options.schemaFile,
    ),
    ...keyring.problems,
    ...checkEntries(loaded, keyring),
  ];
  return {
    file: options.file,
    keysDir,
    entryCount: loaded.entryCount,
    entries: loaded.entries,
    keyCount: keyring.keys.size,
    problems,
    ok: problems.length === 0,
  };
}

function checkSchemaFile(schemaFile: string, required: boolean): RegistryProblem[] {
  if (!required && !existsSync(schemaFile)) return [];
  let published: unknown;
  try {
    published = JSON.parse(readFileSync(schemaFile, "utf8"));
  } catch (err) {
    const message = `cannot read the published schema: ${err instanceof Error ? err.message : String(err)}`;
    return [{ kind: "unreadable", file: schemaFile, message }];
  }
  if (canonicalJson(published) === canonicalJson(REGISTRY_SCHEMA)) return [];
  return [
    {
      kind: "schema_file_mismatch",
      file: schemaFile,
      message:
        "differs from the schema the registry code checks against (packages/registry/src/schema.ts); " +
        "change both together, or regenerate this file with `ronctl registry schema`",
    },
  ];
}
