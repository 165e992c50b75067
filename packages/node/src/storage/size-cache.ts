/**
 * Sizes of objects by namespace and digest, or their absence, as this process last saw them.
 * Objects never change once stored, and only the engine's own commit and quarantine add or
 * remove them, so an entry stays true until the engine says otherwise; the bound keeps a
 * flood of lookups of random addresses from growing it. Saves a stat(2) per GET and HAS,
 * which under load waited behind other reads in the thread pool (two for a public object
 * looked up by a tenant, whose own namespace misses first).
 */
export class SizeCache {
  /** Map order is recency: a hit moves its entry to the end, the oldest goes first. */
  private readonly entries = new Map<string, number | undefined>();

  constructor(private readonly maxEntries: number) {}

  /** The cached answer, or "unknown" when there is none. */
  get(namespace: string, digest: string): number | undefined | "unknown" {
    const key = `${namespace}/${digest}`;
    if (!this.entries.has(key)) return "unknown";
    const size = this.entries.get(key);
    this.entries.delete(key);
    this.entries.set(key, size);
    return size;
  }

  /** Records a size, or `undefined` for an object the namespace does not hold. */
  set(namespace: string, digest: string, size: number | undefined): void {
    const key = `${namespace}/${digest}`;
    this.entries.delete(key);
    this.entries.set(key, size);
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  forget(namespace: string, digest: string): void {
    this.entries.delete(`${namespace}/${digest}`);
  }
}
