import { type CorrKey, corrKey } from "@omnigate/oap";

/**
 * Open streams per tenant, so that near the node's ceiling the tenant holding more than
 * its fair share (ceiling ÷ (tenants with open streams + 1)) is refused first and one
 * tenant's storm cannot starve the others. A tenant is tracked only while it has open streams, so
 * the map never holds more entries than the ceiling allows streams.
 */
export class TenantInflight {
  // Tenant ids below 2^53 (nearly all) are keyed as numbers: they hash far faster than BigInts.
  private readonly open = new Map<CorrKey, number>();
  refused = 0;

  get tenants(): number {
    return this.open.size;
  }

  /** Counts a stream in and returns the tenant's open streams, this one included. */
  enter(tenant: bigint): number {
    const key = corrKey(tenant);
    const n = (this.open.get(key) ?? 0) + 1;
    this.open.set(key, n);
    return n;
  }

  leave(tenant: bigint): void {
    const key = corrKey(tenant);
    const n = (this.open.get(key) ?? 1) - 1;
    if (n > 0) this.open.set(key, n);
    else this.open.delete(key);
  }

  /**
   * Whether a tenant with `held` open streams is over its share of `ceiling`. The share
   * counts one tenant more than those with open streams: a tenant alone near the ceiling
   * would otherwise own all of it, and the next tenant to arrive would find it full.
   */
  overShare(held: number, ceiling: number): boolean {
    return held > Math.max(1, Math.floor(ceiling / (this.open.size + 1)));
  }
}
