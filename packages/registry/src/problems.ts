/** Every kind of problem the registry checks can find. */
export type ProblemKind =
  /** A registry, schema or key file or directory cannot be read. */
  | "unreadable"
  /** The registry file is not JSON. */
  | "invalid_json"
  /** An object repeats a key: JSON parsers keep one silently, so what is read is not what is seen. */
  | "duplicate_key"
  /** The document or an entry breaks registry/app_proto_ids.schema.json. */
  | "schema"
  /** registry/app_proto_ids.schema.json differs from the schema the code checks against. */
  | "schema_file_mismatch"
  | "duplicate_id"
  | "duplicate_name"
  /** The id is in the private range (0xF000–0xFFFF), which is never registered. */
  | "id_out_of_range"
  /** A control/platform id (0x0000–0x0FFF) not signed by a project key (`omnigate-*`). */
  | "core_id_needs_project_key"
  /** The entry names a key that registry/keys does not hold (or holds in a broken file). */
  | "unknown_key"
  /** The signature does not verify: the entry changed after signing, or another key signed it. */
  | "bad_signature"
  /** A file in registry/keys is not an Ed25519 public key named `<key id>.pub.pem`. */
  | "bad_key_file";

/** The entry a problem is about: its position in `entries` and, when known, id and name. */
export interface EntryRef {
  index: number;
  id?: string;
  name?: string;
}

export interface RegistryProblem {
  kind: ProblemKind;
  /** What is wrong and, where there is one, how to fix it. */
  message: string;
  /** The file the problem is in. */
  file: string;
  entry?: EntryRef;
}

/** One line per problem: `file: entry 3 (0x1001 vest): bad_signature: ...`. */
export function formatProblem(problem: RegistryProblem): string {
  return `${problem.file}: ${problem.entry ? `${describeEntry(problem.entry)}: ` : ""}${problem.kind}: ${problem.message}`;
}

export function describeEntry(entry: EntryRef): string {
  const label = [entry.id, entry.name].filter((part) => part !== undefined).join(" ");
  return label ? `entry ${entry.index} (${label})` : `entry ${entry.index}`;
}

/** Thrown by `openRegistry` when the registry is not fit to route by; lists every problem. */
export class RegistryError extends Error {
  constructor(
    readonly file: string,
    readonly problems: readonly RegistryProblem[],
  ) {
    super(
      `registry ${file} has ${problems.length} problem${problems.length === 1 ? "" : "s"} ` +
        `(run \`npm run ronctl -- registry verify\`):\n${problems.map((p) => `  ${formatProblem(p)}`).join("\n")}`,
    );
    this.name = "RegistryError";
  }
}
