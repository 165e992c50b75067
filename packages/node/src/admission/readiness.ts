/**
 * Readiness under load, with hysteresis: not ready once in-flight streams or buffered bytes
 * reach `notReadyAt` of their ceiling — before the ceiling itself refuses anything — and
 * ready again only when both are below `readyAt`, so a load balancer does not see the node
 * flap around one threshold.
 */
export class LoadReadiness {
  ready = true;
  /** How many times the node turned not ready because of load. */
  turnedNotReady = 0;
  private readonly inflightHigh: number;
  private readonly inflightLow: number;
  private readonly bytesHigh: number;
  private readonly bytesLow: number;

  constructor(maxInflight: number, maxBufferedBytes: number, notReadyAtPct: number, readyAtPct: number) {
    this.inflightHigh = Math.max(1, Math.floor((maxInflight * notReadyAtPct) / 100));
    this.inflightLow = Math.floor((maxInflight * readyAtPct) / 100);
    this.bytesHigh = Math.floor((maxBufferedBytes * notReadyAtPct) / 100);
    this.bytesLow = Math.floor((maxBufferedBytes * readyAtPct) / 100);
  }

  /** In-flight count from which the node counts as near its ceiling (where fairness applies too). */
  get nearCeiling(): number {
    return this.inflightHigh;
  }

  /** Re-evaluates; returns true when this call turned the node not ready. */
  update(inflight: number, bufferedBytes: number): boolean {
    if (this.ready) {
      if (inflight < this.inflightHigh && bufferedBytes < this.bytesHigh) return false;
      this.ready = false;
      this.turnedNotReady++;
      return true;
    }
    if (inflight < this.inflightLow && bufferedBytes < this.bytesLow) this.ready = true;
    return false;
  }

  /** What is over its mark, for /readyz. */
  reasons(inflight: number, bufferedBytes: number): string[] {
    if (this.ready) return [];
    const out: string[] = [];
    if (inflight >= this.inflightLow) out.push("inflight");
    if (bufferedBytes >= this.bytesLow) out.push("buffered_bytes");
    return out.length > 0 ? out : ["load"];
  }
}
