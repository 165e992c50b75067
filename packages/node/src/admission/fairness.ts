import { type CorrKey, corrKey } from "@omnigate/oap/internal";

/**
 * Open streams per tenant, so that near the node's ceiling the tenant holding more than
 * its fair share (ceiling ÷ (tenants with open streams + 1)) is refused first and one
 * tenant's storm cannot starve the others.
 *
 * A tenant whose last stream ends keeps its entry at 0 (deleting and re-inserting Map
 * entries on every stream churns the table); idle entries are pruned once the map holds
 * more than `maxEntries`, so memory stays bounded whatever tenant ids clients use.
 */
export class TenantInflight {
  // Tenant ids below 2^53 (nearly all) are keyed as numbers: they hash far faster than BigInts.
  // An entry is a mutable counter, so a stream costs one Map lookup, not a get and a set.
  private readonly open = new Map<CorrKey, OpenCount>();
  // Consecutive streams mostly share a tenant: reuse its entry instead of looking it up.
  private lastTenant = -1n;
  private lastEntry: OpenCount | undefined;
  private active = 0;
  refused = 0;

  constructor(private readonly maxEntries: number) {}

  /** Entries held (tenants with open streams, plus idle ones not pruned yet). */
  get entries(): number {
    return this.open.size;
  }

  /** Tenants with open streams. */
  get tenants(): number {
    return this.active;
  }

  /** Counts a stream in and returns the tenant's open streams, this one included. */
  enter(tenant: bigint): number {
    const entry = this.entryOf(tenant);
    if (entry.n === 0) this.active++;
    return ++entry.n;
  }

  leave(tenant: bigint): void {
    const entry =
      tenant === this.lastTenant && this.lastEntry !== undefined
        ? this.lastEntry
        : this.open.get(corrKey(tenant));
    // A leave without its enter has nothing to take back (and adds no entry).
    if (entry === undefined || entry.n === 0) return;
    if (--entry.n === 0) this.active--;
  }

  private entryOf(tenant: bigint): OpenCount {
    if (tenant === this.lastTenant && this.lastEntry !== undefined) return this.lastEntry;
    const key = corrKey(tenant);
    let entry = this.open.get(key);
    if (entry === undefined) {
      if (this.open.size >= this.maxEntries) this.pruneIdle();
      entry = { n: 0 };
      this.open.set(key, entry);
    }
    this.lastTenant = tenant;
    this.lastEntry = entry;
    return entry;
  }

  private pruneIdle(): void {
    for (const [key, entry] of this.open) if (entry.n === 0) this.open.delete(key);
    // The remembered entry may be one of those removed.
    this.lastTenant = -1n;
    this.lastEntry = undefined;
  }

  /**
   * Whether a tenant with `held` open streams is over its share of `ceiling`. The share
   * counts one tenant more than those with open streams: a tenant alone near the ceiling
   * would otherwise own all of it, and the next tenant to arrive would find it full.
   */
  overShare(held: number, ceiling: number): boolean {
    return held > Math.max(1, Math.floor(ceiling / (this.active + 1)));
  }
}

/** A tenant's open streams. */
interface OpenCount {
  n: number;
}
