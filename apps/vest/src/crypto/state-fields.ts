/**
 * Readers for saved state (localStorage JSON is untrusted: a stale build or a hand edit may have
 * changed it). Each throws StateError naming the field, instead of failing later mid-protocol.
 */
import { fromBase64UrlOfLength } from "./bytes.js";
import { StateError } from "./errors.js";

export type StateFields = Readonly<Record<string, unknown>>;

export function stateObject(value: unknown, what: string): StateFields {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new StateError("invalid_state", `${what} is not an object`);
  }
  return value as StateFields;
}

export function stateArray(value: unknown, what: string): readonly unknown[] {
  if (!Array.isArray(value)) throw new StateError("invalid_state", `${what} is not an array`);
  return value;
}

export function stateBytes(fields: StateFields, name: string, length: number, what: string): Uint8Array {
  const text = fields[name];
  const bytes = typeof text === "string" ? fromBase64UrlOfLength(text, length) : undefined;
  if (bytes === undefined) {
    throw new StateError("invalid_state", `${what}.${name} is not ${length} bytes of base64url`);
  }
  return bytes;
}

export function optionalStateBytes(
  fields: StateFields,
  name: string,
  length: number,
  what: string,
): Uint8Array | undefined {
  return fields[name] === undefined ? undefined : stateBytes(fields, name, length, what);
}

/** A non-negative safe integer (counters, sequence numbers). */
export function stateCount(
  fields: StateFields,
  name: string,
  what: string,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const value = fields[name];
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0 || value > max) {
    throw new StateError("invalid_state", `${what}.${name} is not an integer in 0..${max}`);
  }
  return value;
}

export function stateString(fields: StateFields, name: string, what: string): string {
  const value = fields[name];
  if (typeof value !== "string") throw new StateError("invalid_state", `${what}.${name} is not a string`);
  return value;
}
