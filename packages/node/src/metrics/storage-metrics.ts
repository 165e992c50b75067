import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/** First-byte buckets: a local read is ~1 ms; past a second something is wrong. */
const FIRST_BYTE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/**
 * The storage service's metrics, registered in the node's registry next to the golden ones.
 * Objects and bytes are read from the engine at scrape time; the hot path adds to a number and
 * observes one histogram per GET (no labels).
 */
export class StorageMetrics {
  private bytesOut = 0;
  private readonly firstByte: Histogram;
  private totals: () => { objects: number; bytes: number } = () => ({ objects: 0, bytes: 0 });

  constructor(registry: Registry) {
    const self = this;
    new Counter({
      name: "storage_bytes_out_total",
      help: "Object body bytes sent by storage GETs.",
      registers: [registry],
      collect() {
        this.reset();
        this.inc(self.bytesOut);
      },
    });
    this.firstByte = new Histogram({
      name: "storage_get_first_byte_seconds",
      help: "Time from a storage GET's arrival to its first body byte handed to the connection.",
      buckets: FIRST_BYTE_BUCKETS,
      registers: [registry],
    });
    new Gauge({
      name: "storage_objects",
      help: "Objects held by the storage engine, across tenants.",
      registers: [registry],
      collect() {
        this.set(self.totals().objects);
      },
    });
    new Gauge({
      name: "storage_bytes",
      help: "Object bytes held by the storage engine, across tenants.",
      registers: [registry],
      collect() {
        this.set(self.totals().bytes);
      },
    });
  }

  /** Where the object and byte gauges read from (the running engine). */
  readTotalsFrom(totals: () => { objects: number; bytes: number }): void {
    this.totals = totals;
  }

  sent(bytes: number): void {
    this.bytesOut += bytes;
  }

  firstByteAfter(seconds: number): void {
    this.firstByte.observe(seconds);
  }

  /** Body bytes sent so far (what the counter exposes). */
  get bytesSent(): number {
    return this.bytesOut;
  }
}
