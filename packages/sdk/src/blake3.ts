import { createRequire } from "node:module";
import { createBLAKE3 } from "hash-wasm";

/** An incremental BLAKE3 hash (content addresses are `b3:<hex>` of it). */
export interface Blake3 {
  update(bytes: Uint8Array): void;
  /** The 32-byte digest as 64 lowercase hex characters. */
  digestHex(): string;
}

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
  const wasm = await createBLAKE3();
  return { update: (bytes) => void wasm.update(bytes), digestHex: () => wasm.digest("hex") };
}
