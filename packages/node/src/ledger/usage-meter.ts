/**
 * Counts requests served per tenant and app, in slices of the current period: an increment per
 * request, and a Map lookup when the tenant or app differs from the last request's (requests
 * come in runs of one tenant's one app), nothing else on the request path. Commitments, proofs and
 * signatures happen when the period closes (see ledger-service.ts).
 */

/** One tenant's use of one app in a period: requests served per slice. */
export interface PeriodUsage {
  readonly tenant: bigint;
  readonly app: number;
  readonly parts: readonly number[];
}

/** A closed period: [start, end) in whole seconds, and the usage counted in it. */
export interface ClosedPeriod {
  readonly start: number;
  readonly end: number;
  readonly usage: PeriodUsage[];
}

interface UsageEntry {
  tenant: bigint;
  app: number;
  parts: number[];
}

export class UsageMeter {
  #start: number;
  #end: number;
  #counts = new Map<string, UsageEntry>();
  /** The entry the last request counted in: most requests are for the same tenant and app. */
  #last: UsageEntry | undefined;

  /** `start` and `end` in seconds; `parts` slices per period. */
  constructor(
    start: number,
    end: number,
    private readonly parts: number,
  ) {
    this.#start = start;
    this.#end = end;
  }

  /** The open period's bounds (seconds). */
  get period(): { start: number; end: number } {
    return { start: this.#start, end: this.#end };
  }

  /** One request of `tenant` to `app` served at `atMs` (Date.now()). */
  count(tenant: bigint, app: number, atMs: number): void {
    let entry = this.#last;
    if (entry === undefined || entry.tenant !== tenant || entry.app !== app) {
      const key = `${tenant}/${app}`;
      entry = this.#counts.get(key);
      if (!entry) {
        entry = { tenant, app, parts: new Array<number>(this.parts).fill(0) };
        this.#counts.set(key, entry);
      }
      this.#last = entry;
    }
    const span = this.#end - this.#start;
    const slice = Math.floor(((atMs / 1000 - this.#start) * this.parts) / span);
    const index = Math.min(this.parts - 1, Math.max(0, slice));
    entry.parts[index] = (entry.parts[index] as number) + 1;
  }

  /** Closes the open period at `end` (seconds) and opens [end, next). */
  close(end: number, next: number): ClosedPeriod {
    const closed = { start: this.#start, end, usage: [...this.#counts.values()] };
    this.#counts = new Map();
    this.#last = undefined;
    this.#start = end;
    this.#end = next;
    return closed;
  }
}

/** The end of the aligned epoch holding `second` (epochs are multiples of `epochSeconds`). */
export function epochEndAfter(second: number, epochSeconds: number): number {
  return (Math.floor(second / epochSeconds) + 1) * epochSeconds;
}
