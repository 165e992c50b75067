/**
 * Requests served per app in the open period, with each tenant's contribution bounded: a
 * tenant's first `contributionCap` requests of the period (across all apps) are counted, the
 * rest are left out of this aggregate only (they are still served, and still metered by the
 * ledger). One tenant can then move the period's vector of per-app counts by at most
 * `contributionCap` in L1 norm: that bound is the sensitivity Δ of the release.
 *
 * Counting is two Map updates per request; per-tenant state lives only for the open period.
 */

/** A closed period: [start, end) in whole seconds and the bounded count per app. */
export interface AggregatedPeriod {
  readonly start: number;
  readonly end: number;
  readonly counts: ReadonlyMap<number, number>;
}

export class UsageAggregator {
  #start: number;
  #end: number;
  #perApp = new Map<number, number>();
  #perTenant = new Map<bigint, number>();

  /** `start` and `end` of the open period in seconds; `contributionCap` ≥ 1. */
  constructor(
    start: number,
    end: number,
    readonly contributionCap: number,
  ) {
    if (!Number.isSafeInteger(contributionCap) || contributionCap < 1) {
      throw new RangeError("the contribution cap is a positive integer");
    }
    this.#start = start;
    this.#end = end;
  }

  /** The open period's bounds (seconds). */
  get period(): { start: number; end: number } {
    return { start: this.#start, end: this.#end };
  }

  /** One request of `tenant` to `app` served in the open period: counted unless the tenant is at its cap. */
  count(tenant: bigint, app: number): void {
    const used = this.#perTenant.get(tenant) ?? 0;
    if (used >= this.contributionCap) return;
    this.#perTenant.set(tenant, used + 1);
    this.#perApp.set(app, (this.#perApp.get(app) ?? 0) + 1);
  }

  /** Closes the open period at `end` (seconds), opens [end, next) and forgets every tenant. */
  close(end: number, next: number): AggregatedPeriod {
    const closed = { start: this.#start, end, counts: this.#perApp };
    this.#perApp = new Map();
    this.#perTenant = new Map();
    this.#start = end;
    this.#end = next;
    return closed;
  }
}

/** The end of the aligned period holding `second` (periods are multiples of `periodSeconds`). */
export function periodEndAfter(second: number, periodSeconds: number): number {
  return (Math.floor(second / periodSeconds) + 1) * periodSeconds;
}
