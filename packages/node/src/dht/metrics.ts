import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/** Lookup durations: loopback answers in ms, a wide network within a second or two. */
const LOOKUP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** Provider-store figures the DHT core keeps (read at scrape time). */
export interface ProviderStoreFigures {
  keys: number;
  records: number;
  stored: number;
  refused: number;
  expired: number;
}

/**
 * The DHT's metrics (docs/dht.md): requests served by op and refusals by reason, provider
 * lookups, fetch-through outcomes, groups that failed their proof, and the provider store.
 */
export class DhtMetrics {
  private readonly requests: Counter<"op">;
  private readonly refusals: Counter<"reason">;
  private readonly lookups: Histogram<"found">;
  private readonly fetches: Counter<"outcome">;
  private readonly fetchedBytes: Counter;
  private readonly badChunks: Counter;

  constructor(registry: Registry, store: () => ProviderStoreFigures) {
    this.requests = new Counter({
      name: "dht_requests_total",
      help: "Node-to-node DHT requests served, by op.",
      labelNames: ["op"],
      registers: [registry],
    });
    this.refusals = new Counter({
      name: "dht_refused_total",
      help: "Node-to-node DHT requests refused, by reason (node capability, meta, provider store bounds).",
      labelNames: ["reason"],
      registers: [registry],
    });
    this.lookups = new Histogram({
      name: "dht_provider_lookup_seconds",
      help: "Provider lookups of fetch-through, by whether a provider was found.",
      labelNames: ["found"],
      buckets: LOOKUP_BUCKETS,
      registers: [registry],
    });
    this.fetches = new Counter({
      name: "dht_fetch_through_total",
      help: "Fetch-throughs by outcome: fetched, or failed (providers found, none delivered).",
      labelNames: ["outcome"],
      registers: [registry],
    });
    this.fetchedBytes = new Counter({
      name: "dht_fetch_through_bytes_total",
      help: "Object bytes fetched from other nodes, every group verified.",
      registers: [registry],
    });
    this.badChunks = new Counter({
      name: "dht_bad_chunks_total",
      help: "64 KiB groups from a provider that failed their proof (the provider was dropped).",
      registers: [registry],
    });
    for (const field of ["keys", "records"] as const) {
      new Gauge({
        name: `dht_provider_store_${field}`,
        help: field === "keys" ? "Keys the provider store holds records for." : "Provider records held.",
        registers: [registry],
        collect() {
          this.set(store()[field]);
        },
      });
    }
    for (const field of ["stored", "refused", "expired"] as const) {
      new Counter({
        name: `dht_provider_records_${field}_total`,
        help: `Provider records ${field} since start (refused: bounds, forged, TTL).`,
        registers: [registry],
        collect() {
          this.reset();
          this.inc(store()[field]);
        },
      });
    }
  }

  served(op: string): void {
    this.requests.inc({ op });
  }

  refused(reason: string): void {
    this.refusals.inc({ reason });
  }

  lookup(seconds: number, found: boolean): void {
    this.lookups.observe({ found: String(found) }, seconds);
  }

  fetched(bytes: number): void {
    this.fetches.inc({ outcome: "fetched" });
    this.fetchedBytes.inc(bytes);
  }

  fetchFailed(): void {
    this.fetches.inc({ outcome: "failed" });
  }

  badChunk(): void {
    this.badChunks.inc();
  }
}
