/** How per-contact timeouts are chosen. */
export interface TimeoutPolicy {
  /** The timeout before anything is known, and the ceiling of adaptive ones. Default 1000 ms. */
  contactTimeoutMs: number;
  /** Adaptive timeouts never go below this. Default 100 ms. */
  minContactTimeoutMs: number;
  /** When false, every call waits `contactTimeoutMs`. Default true. */
  adaptive: boolean;
}

/** Smoothed RTT of one contact (kept in its routing-table entry, so it is bounded by the table). */
export interface ContactRtt {
  /** Smoothed RTT, ms. */
  srtt: number;
  /** RTT variation, ms. */
  rttvar: number;
}

/** Folds one sample into a contact's estimate (RFC 6298 gains); returns the new estimate. */
export function updateContactRtt(prev: ContactRtt | undefined, rttMs: number): ContactRtt {
  if (!prev) return { srtt: rttMs, rttvar: rttMs / 2 };
  return {
    rttvar: 0.75 * prev.rttvar + 0.25 * Math.abs(prev.srtt - rttMs),
    srtt: 0.875 * prev.srtt + 0.125 * rttMs,
  };
}

/** Recent samples kept for the network-wide estimate. */
const WINDOW = 128;

/**
 * Round-trip estimates behind the adaptive per-contact timeouts. A dead contact costs its
 * caller one timeout, so the timeout is what sets lookup tail latency under churn; it is kept
 * near what a live peer actually needs:
 * - a contact measured before (its `ContactRtt`, kept in the routing table):
 *   `2 × srtt + 4 × rttvar` (TCP's RTO, RFC 6298, doubled for margin), within [min, default];
 * - an unmeasured contact (most of a lookup's): `3 × p90` of the last 128 samples from any
 *   contact, within [min, default]; the default until 8 samples exist.
 */
export class RttEstimator {
  private readonly samples = new Float64Array(WINDOW);
  private sampleCount = 0;
  private p90Cache: number | undefined;
  private p90At = 0;

  constructor(private readonly policy: TimeoutPolicy) {}

  /** Records an answered call that took `rttMs` (from any contact). */
  observe(rttMs: number): void {
    this.samples[this.sampleCount % WINDOW] = rttMs;
    this.sampleCount++;
  }

  /** The 90th percentile of recent samples from all contacts, or undefined with fewer than 8. */
  networkP90(): number | undefined {
    const n = Math.min(this.sampleCount, WINDOW);
    if (n < 8) return undefined;
    // Re-sorted every 16 samples, not on every call: timeouts are read once per query.
    if (this.p90Cache === undefined || this.sampleCount - this.p90At >= 16) {
      this.p90At = this.sampleCount;
      const sorted = Array.from(this.samples.subarray(0, n)).sort((a, b) => a - b);
      this.p90Cache = sorted[Math.min(n - 1, Math.floor(n * 0.9))] ?? this.policy.contactTimeoutMs;
    }
    return this.p90Cache;
  }

  /** The timeout to give one call to a contact with estimate `known` (undefined if never measured). */
  timeoutFor(known: ContactRtt | undefined): number {
    const { contactTimeoutMs, minContactTimeoutMs, adaptive } = this.policy;
    if (!adaptive) return contactTimeoutMs;
    let estimate: number | undefined;
    if (known) estimate = 2 * known.srtt + 4 * known.rttvar;
    else {
      const p90 = this.networkP90();
      if (p90 !== undefined) estimate = 3 * p90;
    }
    if (estimate === undefined) return contactTimeoutMs;
    return Math.min(contactTimeoutMs, Math.max(minContactTimeoutMs, estimate));
  }

  /**
   * When to hedge a call that has not answered: `1.5 × p90` of recent samples (a live peer
   * has answered by then 9 times in 10), within [min / 2, timeout); undefined before 8 samples.
   */
  hedgeDelay(timeoutMs: number): number | undefined {
    const p90 = this.networkP90();
    if (p90 === undefined) return undefined;
    return Math.min(timeoutMs - 1, Math.max(this.policy.minContactTimeoutMs / 2, 1.5 * p90));
  }
}
