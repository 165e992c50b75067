/**
 * Where storage objects live. Objects are keyed by namespace (a tenant, or the shared `public`
 * one) and hex digest; the service computes and checks digests, the engine only keeps bytes.
 * Every engine runs the same test suite (packages/node/test/storage-engines.test.ts).
 */
export interface StorageEngine {
  readonly kind: string;
  /** Prepares the store (directories, counts of what is already there). */
  open(): Promise<void>;
  close(): Promise<void>;
  /** Size of an object, or undefined when the namespace does not hold it. */
  size(namespace: string, digest: string): Promise<number | undefined>;
  /** A new object being written; it appears only when committed. */
  create(namespace: string): Promise<PendingObject>;
  /**
   * Opens an object for reading, or undefined when the namespace does not hold it. `from` is
   * where the caller will read first (a range's start): an engine that streams the object
   * starts there instead of at byte 0.
   */
  openReader(namespace: string, digest: string, from?: number): Promise<ObjectReader | undefined>;
  /**
   * The object's BLAKE3 outboard (docs/storage.md, verified GETs): the tree's parent nodes,
   * kept beside the bytes. Undefined when the object or its outboard is missing (an object of
   * one 64 KiB group has none; one stored before outboards existed gets one on first use).
   */
  readOutboard(namespace: string, digest: string): Promise<Uint8Array | undefined>;
  /** Keeps an outboard for an object already in the store (made for an older object). */
  writeOutboard(namespace: string, digest: string, outboard: Uint8Array): Promise<void>;
  /** The digests a namespace holds (what a node announces to the DHT at start). */
  list(namespace: string): AsyncIterable<string>;
  /** Takes a corrupt object out of the store (kept aside where the engine can). */
  quarantine(namespace: string, digest: string): Promise<void>;
  /** Objects and bytes held now, across namespaces. */
  totals(): { objects: number; bytes: number };
}

/**
 * An open object, read by position into buffers the caller owns (so a GET can reuse them once
 * the connection has sent them).
 */
export interface ObjectReader {
  /** Copies bytes from `position` into `into`; resolves to how many (fewer at the end, 0 past it). */
  read(into: Uint8Array, position: number): Promise<number>;
  close(): Promise<void>;
}

export interface PendingObject {
  write(chunk: Uint8Array): Promise<void>;
  /**
   * Publishes the object under `digest`, with its outboard when it has one (more than one
   * 64 KiB group); false when it was already there (nothing changes).
   */
  commit(digest: string, outboard?: Uint8Array): Promise<boolean>;
  /** Drops what was written. Safe to call after commit or twice. */
  abort(): Promise<void>;
}

/** Raised by an engine that has no room left for an object (the memory engine's bound). */
export class StoreFullError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StoreFullError";
  }
}
