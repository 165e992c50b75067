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
  private readonly open = new Map<CorrKey, number>();
  // Consecutive streams mostly share a tenant: reuse its key instead of converting the BigInt.
  private lastTenant = -1n;
  private lastKey: CorrKey = -1;
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
    const key = this.keyOf(tenant);
    const n = (this.open.get(key) ?? 0) + 1;
    if (n === 1) {
      this.active++;
      if (this.open.size >= this.maxEntries) this.pruneIdle();
    }
    this.open.set(key, n);
    return n;
  }

  leave(tenant: bigint): void {
    const key = this.keyOf(tenant);
    const n = (this.open.get(key) ?? 1) - 1;
    if (n === 0) this.active--;
    this.open.set(key, n);
  }

  private pruneIdle(): void {
    for (const [key, n] of this.open) if (n === 0) this.open.delete(key);
  }

  private keyOf(tenant: bigint): CorrKey {
    if (tenant !== this.lastTenant) {
      this.lastTenant = tenant;
      this.lastKey = corrKey(tenant);
    }
    return this.lastKey;
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
