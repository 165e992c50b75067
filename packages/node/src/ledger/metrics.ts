import { Counter, Histogram, type Registry } from "prom-client";

/** Signing takes about 50 µs; a zero-knowledge proof of 16 parts a few seconds. */
const RECORD_BUCKETS = [0.0005, 0.001, 0.005, 0.025, 0.1, 0.5, 1, 2.5, 5, 10, 30];

/** The ledger's metrics (docs/ledger.md). */
export class LedgerMetrics {
  private readonly records: Counter<"mode" | "result">;
  private readonly seconds: Histogram<"mode">;

  constructor(registry: Registry) {
    this.records = new Counter({
      name: "ledger_records_total",
      help: "Settlement records at epoch close, by mode (plain, zk) and result (written, failed).",
      labelNames: ["mode", "result"],
      registers: [registry],
    });
    this.seconds = new Histogram({
      name: "ledger_record_seconds",
      help: "Time to build one settlement record (commitments, proof, signature), by mode.",
      labelNames: ["mode"],
      buckets: RECORD_BUCKETS,
      registers: [registry],
    });
  }

  written(mode: "plain" | "zk", seconds: number): void {
    this.records.inc({ mode, result: "written" });
    this.seconds.observe({ mode }, seconds);
  }

  failed(mode: "plain" | "zk"): void {
    this.records.inc({ mode, result: "failed" });
  }
}
