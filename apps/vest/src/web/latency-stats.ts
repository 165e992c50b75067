/** Recent latencies of one kind of call, for the page's indicator and its test hooks. */
export class LatencyStats {
  private readonly samples: number[] = [];
  count = 0;
  firstMs: number | undefined;

  constructor(private readonly window = 200) {}

  add(ms: number): void {
    this.count++;
    this.firstMs ??= ms;
    this.samples.push(ms);
    if (this.samples.length > this.window) this.samples.shift();
  }

  /** The q-quantile (0..1) of the recent samples, or undefined before the first. */
  quantile(q: number): number | undefined {
    if (this.samples.length === 0) return undefined;
    const sorted = [...this.samples].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  }
}
