import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

/** One place a canary could leak to: a file, a log, an HTTP answer, a heap snapshot. */
export interface LeakSource {
  name: string;
  bytes: Buffer;
}

/** Where a canary was found, and in which encoding. */
export interface LeakHit {
  source: string;
  form: string;
  count: number;
}

/**
 * The canary as it could appear at rest: raw UTF-8, UTF-16LE (V8 strings, some logs), hex in
 * both cases, and base64 / base64url at each of the 3 byte alignments it could have inside a
 * longer encoded text (the part of the encoding that depends only on the canary's bytes).
 */
export function canaryForms(canary: string): Array<{ form: string; needle: Buffer }> {
  const raw = Buffer.from(canary, "utf8");
  const forms = [
    { form: "raw", needle: raw },
    { form: "utf16le", needle: Buffer.from(canary, "utf16le") },
    { form: "hex", needle: Buffer.from(raw.toString("hex")) },
    { form: "HEX", needle: Buffer.from(raw.toString("hex").toUpperCase()) },
  ];
  for (let shift = 0; shift < 3; shift++) {
    const shifted = Buffer.concat([Buffer.alloc(shift), raw]);
    const from = Math.ceil(shift / 3) * 4;
    const to = Math.floor((shift + raw.length) / 3) * 4;
    for (const encoding of ["base64", "base64url"] as const) {
      const core = shifted.toString(encoding).slice(from, to);
      forms.push({ form: `${encoding}+${shift}`, needle: Buffer.from(core) });
    }
  }
  return forms;
}

export function searchCanary(canary: string, sources: LeakSource[]): LeakHit[] {
  const hits: LeakHit[] = [];
  const forms = canaryForms(canary);
  for (const source of sources) {
    for (const { form, needle } of forms) {
      let count = 0;
      for (let at = source.bytes.indexOf(needle); at !== -1; at = source.bytes.indexOf(needle, at + 1))
        count++;
      if (count > 0) hits.push({ source: source.name, form, count });
    }
  }
  return hits;
}

/** Every regular file under `dir`, as sources named by their path. */
export function filesUnder(dir: string): LeakSource[] {
  const sources: LeakSource[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const path = join(entry.parentPath, entry.name);
    if (entry.isFile() && statSync(path).size > 0) sources.push({ name: path, bytes: readFileSync(path) });
  }
  return sources;
}
