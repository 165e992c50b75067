import { BoundedLru } from "../util/bounded-lru.js";

const ABSENT = -1;

/**
 * Sizes of objects by namespace and digest, or their absence, as this process last saw them.
 * Objects never change once stored, and only the engine's own commit and quarantine add or
 * remove them, so an entry stays true until the engine says otherwise; the bound keeps a
 * flood of lookups of random addresses from growing it. Saves a stat(2) per GET and HAS,
 * which under load waited behind other reads in the thread pool (two for a public object
 * looked up by a tenant, whose own namespace misses first).
 */
export class SizeCache {
  /** Sizes by `namespace/digest`; ABSENT for an object the namespace does not hold. */
  private readonly entries: BoundedLru<string, number>;

  constructor(maxEntries: number) {
    this.entries = new BoundedLru(maxEntries);
  }

  /** The cached answer, or "unknown" when there is none. */
  get(namespace: string, digest: string): number | undefined | "unknown" {
    const size = this.entries.get(`${namespace}/${digest}`);
    if (size === undefined) return "unknown";
    return size === ABSENT ? undefined : size;
  }

  /** Records a size, or `undefined` for an object the namespace does not hold. */
  set(namespace: string, digest: string, size: number | undefined): void {
    this.entries.set(`${namespace}/${digest}`, size ?? ABSENT);
  }

  forget(namespace: string, digest: string): void {
    this.entries.delete(`${namespace}/${digest}`);
  }
}
