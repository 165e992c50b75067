import type { Blake3 } from "../blake3-wasm.js";

/** zstd compression of a COMP request body (level as zstd's). */
export type Compressor = (body: Uint8Array, level?: number) => Uint8Array;

/**
 * What an OapClient takes from the platform it runs on, given by the entry that makes it
 * (connect.ts in Node, browser.ts in a page): nothing reachable from OapClient imports a
 * Node module, and what needs one comes through here.
 */
export interface ClientPlatform {
  /** zstd for COMP request bodies; undefined where there is none, and bodies then go plain. */
  compress: Compressor | undefined;
  /** A fresh BLAKE3 hasher, for storage addresses and verified reads. */
  createBlake3(): Promise<Blake3>;
  /** Lets any number of waiting calls listen on `signal` (Node warns past ten listeners). */
  allowManyListeners(signal: AbortSignal): void;
}
