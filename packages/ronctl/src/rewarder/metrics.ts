import { Counter, Histogram, Registry } from "prom-client";

/** Verification takes about 1 ms for a plain record, 50–400 ms for a zero-knowledge one. */
const VERIFY_BUCKETS = [0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** The rewarder's metrics, served on --metrics as Prometheus text (docs/ledger.md). */
export class RewarderMetrics {
  readonly registry = new Registry();
  private readonly verified: Counter<"result">;
  private readonly failures: Counter<"reason">;
  private readonly seconds: Histogram<"mode">;
  private readonly paidUnits: Counter;

  constructor() {
    this.verified = new Counter({
      name: "zk_verify_total",
      help: "Settlement records checked, by result: valid (paid), replayed (valid, paid before), invalid.",
      labelNames: ["result"],
      registers: [this.registry],
    });
    this.failures = new Counter({
      name: "zk_verify_failures_total",
      help: "Invalid settlement records by reason (malformed, unknown_node, bad_signature, total_mismatch, range_proof_failed, ...).",
      labelNames: ["reason"],
      registers: [this.registry],
    });
    this.seconds = new Histogram({
      name: "zk_verify_seconds",
      help: "Time to verify one settlement record (signature, opening, proofs), by mode.",
      labelNames: ["mode"],
      buckets: VERIFY_BUCKETS,
      registers: [this.registry],
    });
    this.paidUnits = new Counter({
      name: "rewarder_paid_amount_total",
      help: "Amount paid out (usage × rate) over all settled records.",
      registers: [this.registry],
    });
  }

  checked(result: "valid" | "replayed" | "invalid", mode: string, seconds: number): void {
    this.verified.inc({ result });
    this.seconds.observe({ mode }, seconds);
  }

  invalid(reason: string): void {
    this.failures.inc({ reason });
  }

  paid(amount: number): void {
    this.paidUnits.inc(amount);
  }
}
