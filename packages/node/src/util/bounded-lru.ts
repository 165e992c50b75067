/**
 * A map that keeps at most `capacity` entries, evicting the least recently used. Quota
 * buckets live in one, so a flood of made-up tenant ids costs a bounded amount of memory:
 * the cost of an eviction is that the evicted tenant starts again with a full bucket.
 */
export class BoundedLru<K, V> {
  // A Map iterates in insertion order: re-inserting on use keeps the oldest entry first.
  private readonly entries = new Map<K, V>();
  evictions = 0;

  constructor(readonly capacity: number) {
    if (!(capacity >= 1)) throw new RangeError(`capacity must be at least 1, got ${capacity}`);
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  /** The entry for `key`, made by `create` (evicting the oldest entry if full) when missing. */
  getOrCreate(key: K, create: () => V): V {
    const found = this.get(key);
    if (found !== undefined) return found;
    const value = create();
    this.set(key, value);
    return value;
  }

  /** Sets `key` as the most recently used entry, evicting the oldest one if full. */
  set(key: K, value: V): void {
    this.entries.delete(key);
    if (this.entries.size >= this.capacity) {
      const oldest = this.entries.keys().next().value as K;
      this.entries.delete(oldest);
      this.evictions++;
    }
    this.entries.set(key, value);
  }

  delete(key: K): void {
    this.entries.delete(key);
  }
}
