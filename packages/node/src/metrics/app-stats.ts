/** Upper bounds (seconds) of the `latency_seconds` buckets: 1 ms to 30 s. */
export const LATENCY_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
] as const;

/** Status codes up to here are counted one by one (the protocol's are 200–504). */
const MAX_TRACKED_CODE = 599;

/** Label of every app_proto_id no service is registered for: keeps the label set bounded. */
export const UNKNOWN_APP = "unknown";

/**
 * What one app label has seen, kept as plain numbers: the request path only adds to
 * fields, and prom-client reads them at scrape time (no label hashing per request).
 */
export class AppStats {
  inflight = 0;
  bytesIn = 0;
  bytesOut = 0;
  quotaExhaustions = 0;
  /** Finished requests by status code, indexed by code (a typed array: no map work per request). */
  private readonly byCode = new Float64Array(MAX_TRACKED_CODE + 1);
  /** Requests answered with a code above MAX_TRACKED_CODE. */
  private otherCodes = 0;
  /** Per-bucket (not cumulative) latency counts; the last slot is +Inf. */
  readonly latencyBuckets = new Float64Array(LATENCY_BUCKETS.length + 1);
  latencySum = 0;
  latencyCount = 0;

  constructor(readonly label: string) {}

  /** A request that ended with `code` without being timed (refused before any service saw it). */
  counted(code: number): void {
    if (code <= MAX_TRACKED_CODE) this.byCode[code] = (this.byCode[code] ?? 0) + 1;
    else this.otherCodes++;
  }

  finished(code: number, latencyMs: number): void {
    this.counted(code);
    const seconds = Math.max(0, latencyMs) / 1000;
    let i = 0;
    while (i < LATENCY_BUCKETS.length && seconds > (LATENCY_BUCKETS[i] as number)) i++;
    this.latencyBuckets[i] = (this.latencyBuckets[i] ?? 0) + 1;
    this.latencySum += seconds;
    this.latencyCount++;
  }

  /** Request counts by code; codes past MAX_TRACKED_CODE come as -1. */
  codes(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    this.byCode.forEach((n, code) => {
      if (n > 0) out.push([code, n]);
    });
    if (this.otherCodes > 0) out.push([-1, this.otherCodes]);
    return out;
  }

  get requests(): number {
    let n = this.otherCodes;
    for (const count of this.byCode) n += count;
    return n;
  }
}
