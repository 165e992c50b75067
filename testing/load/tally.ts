import { OapClientError, OapRequestError } from "@omnigate/sdk";

/** What one flow (or the whole run) saw. Plain JSON, one line per flow in the CLI. */
export interface FlowReport {
  flow: string;
  tenant: string;
  app_proto_id: number;
  rate_per_sec: number;
  sent: number;
  /** Calls that ended (any outcome). */
  settled: number;
  /** Calls still pending when the run gave up waiting (deadline + grace): hung requests. */
  unsettled: number;
  /** Calls not sent because max_outstanding calls were already pending (load-generator bound). */
  skipped: number;
  /** Replies by status code: the node's, or the client's own for calls the node never answered. */
  by_code: Record<string, number>;
  /** Error replies by reason (node reasons, or the client's: timeout, connection_lost, …). */
  by_reason: Record<string, number>;
  /** Smallest and largest retry_after_ms on 429/503 replies (null when none). */
  retry_after_ms: { min: number; max: number } | null;
  /** 429 and 503 replies from the node that carried no retry_after_ms (should be 0). */
  retry_after_missing: number;
  latency_ms: { p50: number; p99: number; max: number } | null;
}

/** Accumulates outcomes for one flow. */
export class FlowTally {
  sent = 0;
  settled = 0;
  skipped = 0;
  private readonly codes = new Map<number, number>();
  private readonly reasons = new Map<string, number>();
  private retryMin = Number.POSITIVE_INFINITY;
  private retryMax = Number.NEGATIVE_INFINITY;
  private retryMissing = 0;
  private readonly latencies: number[] = [];

  constructor(
    readonly name: string,
    readonly tenant: bigint,
    readonly appProtoId: number,
    readonly ratePerSec: number,
  ) {}

  ok(code: number, latencyMs: number): void {
    this.settled++;
    bump(this.codes, code);
    this.latencies.push(latencyMs);
  }

  failed(error: unknown, latencyMs: number): void {
    this.settled++;
    this.latencies.push(latencyMs);
    if (!(error instanceof OapClientError)) {
      bump(this.codes, 0);
      bump(this.reasons, "client_bug");
      return;
    }
    bump(this.codes, error.code);
    bump(this.reasons, error.reason);
    if (error instanceof OapRequestError && error.retryAfterMs !== undefined) {
      this.retryMin = Math.min(this.retryMin, error.retryAfterMs);
      this.retryMax = Math.max(this.retryMax, error.retryAfterMs);
    } else if (error instanceof OapRequestError && (error.code === 429 || error.code === 503)) {
      this.retryMissing++;
    }
  }

  report(): FlowReport {
    const sorted = [...this.latencies].sort((a, b) => a - b);
    const at = (q: number) =>
      round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number);
    return {
      flow: this.name,
      tenant: `0x${this.tenant.toString(16)}`,
      app_proto_id: this.appProtoId,
      rate_per_sec: this.ratePerSec,
      sent: this.sent,
      settled: this.settled,
      unsettled: this.sent - this.settled,
      skipped: this.skipped,
      by_code: Object.fromEntries(
        [...this.codes].sort((a, b) => a[0] - b[0]).map(([k, v]) => [String(k), v]),
      ),
      by_reason: Object.fromEntries([...this.reasons].sort()),
      retry_after_ms: Number.isFinite(this.retryMin) ? { min: this.retryMin, max: this.retryMax } : null,
      retry_after_missing: this.retryMissing,
      latency_ms:
        sorted.length > 0 ? { p50: at(0.5), p99: at(0.99), max: round(sorted.at(-1) as number) } : null,
    };
  }
}

function bump<K>(map: Map<K, number>, key: K): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
