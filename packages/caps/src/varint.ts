import { CapError } from "./errors.js";

/** Unsigned LEB128, as libmacaroons v2 encodes field lengths. */
export function encodeVarint(value: number): number[] {
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

/** Reads a varint at `at`; returns [value, next offset]. Lengths above 2^28 are refused. */
export function decodeVarint(bytes: Uint8Array, at: number): [number, number] {
  let value = 0;
  let shift = 0;
  for (let i = at; i < bytes.length && shift < 28; i++) {
    const byte = bytes[i] as number;
    value += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return [value, i + 1];
    shift += 7;
  }
  throw new CapError("unauthenticated", "malformed token: truncated or oversized length");
}
