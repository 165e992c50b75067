import { createRequire } from "node:module";
import { type Blake3, createWasmBlake3 } from "./blake3-wasm.js";
// Registers the native hasher of 64 KiB groups for chunk-verified reads, where it was built.
import "./blake3-native.js";

export type { Blake3 } from "./blake3-wasm.js";

interface NativeHasher {
  update(bytes: Uint8Array): void;
  digest(encoding: "hex"): string;
}

type NativeHasherClass = new () => NativeHasher;

/**
 * The native BLAKE3 of `@napi-rs/blake-hash` (SIMD, several GB/s; its prebuilt binaries
 * come from the npm registry as optional packages), or hash-wasm's WebAssembly build
 * (about 600 MB/s) on a platform without a prebuilt binary. Storage hashes every byte it
 * stores and serves, so this is on the hot path of a GET.
 */
const Native: NativeHasherClass | undefined = loadNative();

function loadNative(): NativeHasherClass | undefined {
  try {
    const require = createRequire(import.meta.url);
    return (require("@napi-rs/blake-hash") as { Blake3Hasher: NativeHasherClass }).Blake3Hasher;
  } catch {
    return undefined;
  }
}

/** Which implementation `createBlake3` uses. */
export const blake3Implementation: "native" | "wasm" = Native ? "native" : "wasm";

/** A fresh hasher. */
export async function createBlake3(): Promise<Blake3> {
  if (Native) {
    const native = new Native();
    return { update: (bytes) => native.update(bytes), digestHex: () => native.digest("hex") };
  }
  return createWasmBlake3();
}
