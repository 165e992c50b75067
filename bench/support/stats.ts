/**
 * Per-request latencies of one measured window, in nanoseconds.
 *
 * Samples go into a growable Float64Array rather than a JS array: a million boxed numbers
 * would put GC work into the client process, which is one of the two things being measured.
 * Sorting once at the end gives exact percentiles (no histogram bucketing error).
 */
export class LatencyRecorder {
  private samples = new Float64Array(1 << 16);
  private count = 0;

  get size(): number {
    return this.count;
  }

  record(ns: bigint): void {
    if (this.count === this.samples.length) {
      const grown = new Float64Array(this.samples.length * 2);
      grown.set(this.samples);
      this.samples = grown;
    }
    this.samples[this.count++] = Number(ns);
  }

  summary(): LatencySummary {
    const sorted = this.samples.subarray(0, this.count).sort();
    return { p50Ms: percentile(sorted, 0.5) / 1e6, p99Ms: percentile(sorted, 0.99) / 1e6 };
  }
}

export interface LatencySummary {
  p50Ms: number;
  p99Ms: number;
}

/** Nearest-rank percentile of ascending samples (NaN when there are none). */
function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] as number;
}

/** Rounds for the JSON report: enough digits to compare runs, no float noise. */
export function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
