import { readFileSync } from "node:fs";
import type { KeySource } from "@omnigate/caps";
import { CommandRefused } from "../errors.js";

/** One key of the node's ring file `<data dir>/auth/root-keys.json`. */
interface RootKeyRecord {
  id: string;
  /** base64url, 32 bytes. */
  key: string;
  created_at: string;
  /** Set by a rotation: the key verifies until then and not after. */
  retires_at?: string;
}

/**
 * A KeySource over a copy of the node's root key ring, for verifying without a node. Like
 * the node's ring, a key past its `retires_at` is absent, so tokens under it are refused.
 */
export function keyFileSource(file: string, now: () => number = Date.now): KeySource {
  const records = readRing(file);
  return {
    get(id) {
      const record = records.find((k) => k.id === id);
      if (!record) return undefined;
      if (record.retires_at !== undefined && Date.parse(record.retires_at) <= now()) return undefined;
      return new Uint8Array(Buffer.from(record.key, "base64url"));
    },
  };
}

function readRing(file: string): RootKeyRecord[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new CommandRefused(
      `cannot read the key file ${file}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const keys = typeof parsed === "object" && parsed !== null && "keys" in parsed ? parsed.keys : undefined;
  if (!Array.isArray(keys) || !keys.every(isRecord)) {
    throw new CommandRefused(
      `${file} is not a root key ring (expected {"current": ..., "keys": [{"id", "key", "created_at", "retires_at"?}]}, ` +
        "as in <data dir>/auth/root-keys.json)",
    );
  }
  return keys;
}

function isRecord(k: unknown): k is RootKeyRecord {
  if (typeof k !== "object" || k === null) return false;
  const r = k as Record<string, unknown>;
  return (
    typeof r.id === "string" &&
    typeof r.key === "string" &&
    typeof r.created_at === "string" &&
    (r.retires_at === undefined ||
      (typeof r.retires_at === "string" && !Number.isNaN(Date.parse(r.retires_at))))
  );
}
