import { readFileSync } from "node:fs";
import { findDuplicateKeys } from "./duplicate-keys.js";
import type { EntryRef, RegistryProblem } from "./problems.js";
import type { RegistryEntry } from "./types.js";
import { validateRegistryDocument } from "./validate.js";

/** An entry that conforms to the schema, with its position in the file. */
export interface IndexedEntry {
  index: number;
  entry: RegistryEntry;
}

export interface LoadedRegistry {
  file: string;
  /** How many entries the file lists, conforming or not. */
  entryCount: number;
  /** The entries that conform to the schema; later checks run on these. */
  entries: IndexedEntry[];
  /** Reading, JSON, duplicate-key and schema problems — every one found, not only the first. */
  problems: RegistryProblem[];
}

/** Reads and schema-checks a registry file. Never throws for bad content: it is all in `problems`. */
export function loadRegistry(file: string): LoadedRegistry {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { file, entryCount: 0, entries: [], problems: [{ kind: "unreadable", file, message }] };
  }
  return parseRegistry(text, file);
}

/** `loadRegistry` on text already in hand; `file` names it in problems. */
export function parseRegistry(text: string, file: string): LoadedRegistry {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (err) {
    const message = `not valid JSON: ${err instanceof Error ? err.message : String(err)}`;
    return { file, entryCount: 0, entries: [], problems: [{ kind: "invalid_json", file, message }] };
  }
  const rawEntries = listEntries(document);
  const duplicates = findDuplicateKeys(text).map((pointer): RegistryProblem => {
    const index = /^\/entries\/(\d+)/.exec(pointer)?.[1];
    const message = `key ${pointer} appears more than once in its object; keep one`;
    return index === undefined
      ? { kind: "duplicate_key", file, message }
      : { kind: "duplicate_key", file, entry: entryRef(rawEntries[Number(index)], Number(index)), message };
  });
  const violations = validateRegistryDocument(document);
  const badIndexes = new Set([
    ...violations.flatMap((v) => (v.entryIndex === undefined ? [] : [v.entryIndex])),
    ...duplicates.flatMap((p) => (p.entry ? [p.entry.index] : [])),
  ]);
  const schemaProblems = violations.map((v): RegistryProblem => {
    const entry = v.entryIndex === undefined ? undefined : entryRef(rawEntries[v.entryIndex], v.entryIndex);
    return entry
      ? { kind: "schema", file, entry, message: v.message }
      : { kind: "schema", file, message: v.message };
  });
  const problems = [...duplicates, ...schemaProblems];
  const entries = rawEntries.flatMap((raw, index) =>
    badIndexes.has(index) ? [] : [{ index, entry: raw as RegistryEntry }],
  );
  return { file, entryCount: rawEntries.length, entries, problems };
}

function listEntries(document: unknown): unknown[] {
  if (typeof document !== "object" || document === null) return [];
  const entries = (document as { entries?: unknown }).entries;
  return Array.isArray(entries) ? entries : [];
}

/** Names an entry by whatever id and name it has, even when they are malformed. */
export function entryRef(raw: unknown, index: number): EntryRef {
  const ref: EntryRef = { index };
  if (typeof raw === "object" && raw !== null) {
    const { id, name } = raw as { id?: unknown; name?: unknown };
    if (typeof id === "string") ref.id = id;
    if (typeof name === "string") ref.name = name;
  }
  return ref;
}
