import { randomBytes } from "node:crypto";
import { CapError, type CapRefusal, type KeySource } from "../src/index.js";

export const TENANT_A = 0x0a0a_0000_0000_0000_0000_0000_0000_0001n;
export const TENANT_B = 0x0b0b_0000_0000_0000_0000_0000_0000_0002n;
export const NOW = 1_800_000_000;

export function keyRing(entries: Record<string, Uint8Array>): KeySource & { retire(id: string): void } {
  const keys = new Map(Object.entries(entries));
  return {
    get: (id) => keys.get(id),
    retire: (id) => void keys.delete(id),
  };
}

export function newRootKey(): Uint8Array {
  return new Uint8Array(randomBytes(32));
}

/** Runs `fn` and returns the CapError it threw (fails the test if it threw anything else). */
export function refusal(fn: () => unknown): { reason: CapRefusal; message: string } {
  try {
    fn();
  } catch (err) {
    if (err instanceof CapError) return { reason: err.reason, message: err.message };
    throw err;
  }
  throw new Error("expected a CapError, but the call succeeded");
}
