import { createBLAKE3, type IHasher } from "hash-wasm";

/** Hashers kept for reuse: creating one instantiates a WebAssembly module, which a GET should not pay for. */
const idle: IHasher[] = [];
const KEEP = 64;

/** A BLAKE3 hasher, initialised; give it back with `releaseHasher` when done. */
export async function takeHasher(): Promise<IHasher> {
  const hasher = idle.pop() ?? (await createBLAKE3());
  hasher.init();
  return hasher;
}

export function releaseHasher(hasher: IHasher): void {
  if (idle.length < KEEP) idle.push(hasher);
}
