import { parseAppProtoId } from "./ids.js";
import { RegistryError } from "./problems.js";
import type { RegistryEntry } from "./types.js";
import { type VerifyOptions, verifyRegistry } from "./verify.js";

/** A registry that passed every check, indexed for lookups by numeric app_proto_id. */
export interface Registry {
  file: string;
  entries: readonly RegistryEntry[];
  /** The entry for an id, or undefined when the registry does not list it. */
  get(appProtoId: number): RegistryEntry | undefined;
}

/**
 * Loads and verifies a registry for a consumer that routes by it (the node). All or nothing:
 * any problem throws a RegistryError listing every problem, so a half-valid registry never
 * decides what gets routed.
 */
export function openRegistry(options: VerifyOptions): Registry {
  const report = verifyRegistry(options);
  if (!report.ok) throw new RegistryError(report.file, report.problems);
  const entries = report.entries.map((indexed) => indexed.entry);
  const byId = new Map<number, RegistryEntry>();
  for (const entry of entries) {
    const id = parseAppProtoId(entry.id);
    if (id !== undefined) byId.set(id, entry);
  }
  return { file: report.file, entries, get: (appProtoId) => byId.get(appProtoId) };
}
