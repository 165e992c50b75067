import type { RegistryEntry } from "./types.js";

/**
 * Canonical JSON: object keys sorted by UTF-16 code units, no whitespace, strings escaped
 * as JSON.stringify does. For the values the registry holds (objects, arrays, strings,
 * integers, booleans, null) this is the same text as RFC 8785 (JCS), so another language
 * can reproduce the signed bytes.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === "boolean" || typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value))
      throw new TypeError(`canonical JSON holds only safe integers, got ${value}`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object") {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record)
      .filter((key) => record[key] !== undefined)
      .sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`).join(",")}}`;
  }
  throw new TypeError(`canonical JSON cannot hold a ${typeof value}`);
}

/** The bytes an entry's signature covers: its canonical JSON with `signature` left out. */
export function entrySigningBytes(entry: RegistryEntry | Omit<RegistryEntry, "signature">): Buffer {
  const { signature: _ignored, ...signed } = entry as RegistryEntry;
  return Buffer.from(canonicalJson(signed), "utf8");
}
