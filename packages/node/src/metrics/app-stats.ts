/** Upper bounds (seconds) of the `latency_seconds` buckets: 1 ms to 30 s. */
export const LATENCY_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
] as const;

/** `0x0101`-style label for an app_proto_id. */
export function appLabel(appProtoId: number): string {
  return `0x${appProtoId.toString(16).padStart(4, "0")}`;
}

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
  /** Finished requests by status code. */
  readonly codes = new Map<number, number>();
  /** Per-bucket (not cumulative) latency counts; the last slot is +Inf. */
  readonly latencyBuckets = new Float64Array(LATENCY_BUCKETS.length + 1);
  latencySum = 0;
  latencyCount = 0;

  constructor(readonly label: string) {}

  finished(code: number, latencyMs: number | undefined): void {
    this.codes.set(code, (this.codes.get(code) ?? 0) + 1);
    if (latencyMs === undefined) return;
    const seconds = latencyMs / 1000;
    let i = 0;
    while (i < LATENCY_BUCKETS.length && seconds > (LATENCY_BUCKETS[i] as number)) i++;
    this.latencyBuckets[i] = (this.latencyBuckets[i] ?? 0) + 1;
    this.latencySum += seconds;
    this.latencyCount++;
  }

  get requests(): number {
    let n = 0;
    for (const count of this.codes.values()) n += count;
    return n;
  }
}
