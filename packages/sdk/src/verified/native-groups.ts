/**
 * A native hasher of full 64 KiB groups, for `groupCvInto` (./blake3-tree.ts): the official
 * BLAKE3 C code with AVX2/AVX-512, about three times the WebAssembly SIMD path, which makes it
 * what bounds a chunk-verified GET in Node. The code here is shared with browsers and imports
 * no Node API: the Node entry registers the addon (../blake3-native.ts).
 */

/**
 * Hashes the full group `bytes[off..off+65536)`, whose first chunk has chunk counter `counter`,
 * up to the two children of its root: 16 words (left CV ‖ right CV) into `out[outOff..]`.
 */
export type GroupChildrenHasher = (
  bytes: Uint8Array,
  off: number,
  counter: number,
  out: Uint32Array,
  outOff: number,
) => void;

let hasher: GroupChildrenHasher | undefined;
let enabled = true;

/** Makes `native` the first choice for full groups (undefined: none). */
export function registerNativeGroupHasher(native: GroupChildrenHasher | undefined): void {
  hasher = native;
}

/** Whether a native hasher is registered (and not turned off by {@link setNativeGroupHasherEnabled}). */
export function nativeGroupHasherAvailable(): boolean {
  return enabled && hasher !== undefined;
}

/** Turns the native path off or on (tests compare it with the others); returns the previous setting. */
export function setNativeGroupHasherEnabled(on: boolean): boolean {
  const was = enabled;
  enabled = on;
  return was;
}

/** As {@link GroupChildrenHasher}; false, writing nothing, when no native hasher is in use. */
export function fullGroupChildrenNative(
  bytes: Uint8Array,
  off: number,
  counter: number,
  out: Uint32Array,
  outOff: number,
): boolean {
  if (!enabled || hasher === undefined) return false;
  hasher(bytes, off, counter, out, outOff);
  return true;
}
