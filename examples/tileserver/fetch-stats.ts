/** Throughput and latency of tile fetches through the node, over the last `keep` fetches. */
export class FetchStats {
  private fetches = 0;
  private bytes = 0;
  private failures = 0;
  private readonly firstByteMs: number[] = [];
  private readonly totalMs: number[] = [];
  private readonly startedAt = performance.now();

  constructor(private readonly keep = 1000) {}

  record(bytes: number, firstByteMs: number, totalMs: number): void {
    this.fetches++;
    this.bytes += bytes;
    push(this.firstByteMs, firstByteMs, this.keep);
    push(this.totalMs, totalMs, this.keep);
  }

  failed(): void {
    this.failures++;
  }

  summary(): {
    fetches: number;
    failures: number;
    bytes: number;
    mb_per_s_since_start: number;
    first_byte_ms: { p50: number; p95: number };
    total_ms: { p50: number; p95: number };
  } {
    const seconds = (performance.now() - this.startedAt) / 1000;
    return {
      fetches: this.fetches,
      failures: this.failures,
      bytes: this.bytes,
      mb_per_s_since_start: round(this.bytes / 1e6 / Math.max(seconds, 0.001)),
      first_byte_ms: { p50: percentile(this.firstByteMs, 0.5), p95: percentile(this.firstByteMs, 0.95) },
      total_ms: { p50: percentile(this.totalMs, 0.5), p95: percentile(this.totalMs, 0.95) },
    };
  }
}

function push(values: number[], value: number, keep: number): void {
  values.push(value);
  if (values.length > keep) values.shift();
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return round(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0);
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
