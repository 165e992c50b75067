/**
 * Padding inside the ciphertext: a 4-byte big-endian length, the plaintext, then zeros up to a
 * whole number of cells, so a ciphertext's size tells only how many cells the message fills.
 */
import { readU32, u32Bytes } from "./bytes.js";

const LENGTH_BYTES = 4;

export function padToCells(plaintext: Uint8Array, cellSize: number): Uint8Array {
  const cells = Math.max(1, Math.ceil((LENGTH_BYTES + plaintext.length) / cellSize));
  const padded = new Uint8Array(cells * cellSize);
  padded.set(u32Bytes(plaintext.length), 0);
  padded.set(plaintext, LENGTH_BYTES);
  return padded;
}

/** `undefined` unless the length fits and every padding byte is zero (one canonical padding). */
export function unpadCells(padded: Uint8Array): Uint8Array | undefined {
  if (padded.length < LENGTH_BYTES) return undefined;
  const length = readU32(padded, 0);
  const end = LENGTH_BYTES + length;
  if (end > padded.length) return undefined;
  for (let index = end; index < padded.length; index++) {
    if (padded[index] !== 0) return undefined;
  }
  return padded.slice(LENGTH_BYTES, end);
}
