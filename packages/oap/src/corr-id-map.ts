/** Marks a free slot: keys are never negative. */
const FREE = -1;
/** 2^32 / golden ratio: multiplying by it spreads consecutive keys over the table (Fibonacci hashing). */
const SPREAD = 0x9e3779b1;

/**
 * A map from corr_id to the state of an open stream, for the one-insert-one-delete-per-request
 * churn of a busy connection: open addressing with linear probing over two flat arrays.
 *
 * Why not a Map: a Map whose entries churn rebuilds its hash table every few dozen
 * deletions, and V8 keeps a pointer from each retired table to its successor (for live
 * iterators). Once one table in that chain has reached the old generation, every later table
 * and everything its entries reference survives each minor GC, and only a full GC ends the
 * chain. Under load that turns most per-request garbage into promoted garbage: measured on the
 * client, it cost about as much CPU as all the other per-request work together. Here a deleted
 * slot is cleared in place and a grown table does not point back, so dead streams stay young.
 *
 * Keys are integers in 0..2^53−1 (corr_ids as numbers; a peer's u64 ids above 2^53 would
 * collide, so key those elsewhere). They are spread by Fibonacci hashing: consecutive corr_ids
 * placed by identity would form one long run that every deletion has to scan. Capacity doubles
 * as needed, keeping at most half the slots in use; it never shrinks.
 */
export class CorrIdMap<T> {
  private keys: Float64Array;
  private values: Array<T | undefined>;
  private mask: number;
  /** 32 − log2(capacity): the top bits of the spread key pick the home slot. */
  private shift: number;
  private count = 0;

  constructor(initialCapacity = 64) {
    let capacity = 8;
    while (capacity < initialCapacity) capacity *= 2;
    this.keys = new Float64Array(capacity).fill(FREE);
    this.values = new Array<T | undefined>(capacity).fill(undefined);
    this.mask = capacity - 1;
    this.shift = 32 - Math.log2(capacity);
  }

  get size(): number {
    return this.count;
  }

  get(key: number): T | undefined {
    const keys = this.keys;
    const mask = this.mask;
    for (let i = this.home(key); ; i = (i + 1) & mask) {
      const k = keys[i];
      if (k === key) return this.values[i];
      if (k === FREE) return undefined;
    }
  }

  set(key: number, value: T): void {
    if ((this.count + 1) * 2 > this.keys.length) this.grow();
    const keys = this.keys;
    const mask = this.mask;
    let i = this.home(key);
    while (keys[i] !== FREE && keys[i] !== key) i = (i + 1) & mask;
    if (keys[i] === FREE) {
      keys[i] = key;
      this.count++;
    }
    this.values[i] = value;
  }

  delete(key: number): boolean {
    const keys = this.keys;
    const values = this.values;
    const mask = this.mask;
    let gap = this.home(key);
    for (;;) {
      const k = keys[gap];
      if (k === key) break;
      if (k === FREE) return false;
      gap = (gap + 1) & mask;
    }
    // Backward-shift deletion: entries later in the probe run move into the gap when their
    // home slot allows it, so lookups never meet a tombstone.
    for (let j = (gap + 1) & mask; keys[j] !== FREE; j = (j + 1) & mask) {
      const k = keys[j] as number;
      if (((j - this.home(k)) & mask) >= ((j - gap) & mask)) {
        keys[gap] = k;
        values[gap] = values[j];
        gap = j;
      }
    }
    keys[gap] = FREE;
    values[gap] = undefined;
    this.count--;
    return true;
  }

  /** The values, as a new array (safe to modify the map while going through it). */
  valuesArray(): T[] {
    const out: T[] = [];
    const keys = this.keys;
    for (let i = 0; i < keys.length; i++) if (keys[i] !== FREE) out.push(this.values[i] as T);
    return out;
  }

  clear(): void {
    this.keys.fill(FREE);
    this.values.fill(undefined);
    this.count = 0;
  }

  private home(key: number): number {
    // Fold the high bits in, so ids that differ only above bit 32 do not share one probe chain.
    const mixed = (key | 0) ^ ((key / 0x1_0000_0000) | 0);
    return Math.imul(mixed, SPREAD) >>> this.shift;
  }

  private grow(): void {
    const keys = this.keys;
    const values = this.values;
    const capacity = keys.length * 2;
    this.keys = new Float64Array(capacity).fill(FREE);
    this.values = new Array<T | undefined>(capacity).fill(undefined);
    this.mask = capacity - 1;
    this.shift = 32 - Math.log2(capacity);
    this.count = 0;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i] as number;
      if (k !== FREE) this.set(k, values[i] as T);
    }
  }
}
