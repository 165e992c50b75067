import { createBLAKE3 } from "hash-wasm";

/** An incremental BLAKE3 hash (content addresses are `b3:<hex>` of it). */
export interface Blake3 {
  /** Feeds the next bytes; call it once per chunk, in order. */
  update(bytes: Uint8Array): void;
  /** The 32-byte digest as 64 lowercase hex characters. */
  digestHex(): string;
}

/** A fresh hasher on hash-wasm's WebAssembly BLAKE3: what runs where the native one cannot (a browser). */
export async function createWasmBlake3(): Promise<Blake3> {
  const wasm = await createBLAKE3();
  return { update: (bytes) => void wasm.update(bytes), digestHex: () => wasm.digest("hex") };
}
