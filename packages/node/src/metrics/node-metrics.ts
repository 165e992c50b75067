import { formatAppProtoId, REASONS, STATUS_CODES } from "@omnigate/oap";
import type { TransportKind } from "@omnigate/sdk/internal";
import { Histogram, type MetricType, Registry } from "prom-client";
import { AppStats, LATENCY_BUCKETS, UNKNOWN_APP } from "./app-stats.js";
import { processRegistry } from "./process-metrics.js";
import { registerScraped, type Source, single } from "./scraped.js";
import { ShapingMetrics } from "./shaping-metrics.js";
import { StorageMetrics } from "./storage-metrics.js";

/** Requests and frame bytes of one transport. */
export interface TransportStats {
  requests: number;
  bytesIn: number;
  bytesOut: number;
}

/** What the status page shows, read from the same numbers `/metrics` exposes. */
export interface MetricsSnapshot {
  connections: number;
  inflight: number;
  requests: number;
  rejected: number;
  quotaRejections: number;
  restarts: number;
  busOverflowDropped: number;
  rejectedByReason: Record<string, number>;
  restartsByService: Record<string, number>;
  apps: Array<{ app: string; inflight: number; requests: number; bytesIn: number; bytesOut: number }>;
}

/**
 * The node's golden metrics. Hot paths add to plain numbers (per-app `AppStats`, per-reason
 * and per-service maps); the prom-client metrics copy them at scrape time through `collect`,
 * so a request costs a map lookup and a few additions, not a label hash per metric.
 *
 * Labels are bounded: `app` is the app_proto_id in hex for registered services and
 * `unknown` otherwise, `reason` is a canonical reason, `service` a configured service name.
 * Tenant ids, topics and other unbounded values never become labels.
 */
export class NodeMetrics {
  readonly registry = new Registry();
  /** The storage service's metrics, in the same registry. */
  readonly storage = new StorageMetrics(this.registry);
  /** Traffic shaping's metrics, in the same registry. */
  readonly shaping = new ShapingMetrics(this.registry);
  private readonly apps = new Map<number, AppStats>();
  private readonly unknown = new AppStats(UNKNOWN_APP);
  /** The last app() answer: a request asks twice (dispatch, end), and consecutive requests mostly share an app. */
  private lastAppId = -1;
  private lastApp: AppStats = this.unknown;
  /** Every canonical reason from the start, at 0: rate() and alerts work before the first refusal. */
  private readonly rejections = new Map<string, number>(Object.keys(REASONS).map((reason) => [reason, 0]));
  private readonly restartCounts = new Map<string, number>();
  private readonly decompressRatio: Histogram<string>;
  private busDropped = 0;
  private connectionCounts: () => Record<TransportKind, number> = () => ({ tls: 0, wss: 0 });
  /** Requests and frame bytes by the transport that carried them. */
  private readonly byTransport: Record<TransportKind, TransportStats> = {
    tls: { requests: 0, bytesIn: 0, bytesOut: 0 },
    wss: { requests: 0, bytesIn: 0, bytesOut: 0 },
  };

  constructor() {
    const byLabel = (label: string, values: () => Iterable<readonly [string, number]>): Source => ({
      labelNames: [label],
      read: () => Array.from(values(), ([key, n]) => [{ [label]: key }, n] as const),
    });
    const byApp = (read: (s: AppStats) => number) =>
      byLabel("app", () => this.allApps().map((s) => [s.label, read(s)] as const));
    const byTransport = (read: (s: TransportStats) => number) =>
      byLabel("transport", () =>
        Object.entries(this.byTransport).map(([kind, s]) => [kind, read(s)] as const),
      );
    const byAppAndCode: Source = {
      labelNames: ["app", "code"],
      read: () =>
        this.allApps().flatMap((s) =>
          s.codes().map(([code, n]) => [{ app: s.label, code: codeLabel(code) }, n] as const),
        ),
    };
    // Counters unless marked "gauge".
    const scraped: Record<string, [help: string, source: Source, type?: "gauge"]> = {
      requests_total: ["Requests finished, by app and status code (refusals included).", byAppAndCode],
      bytes_in_total: ["Request frame bytes received (headers included), by app.", byApp((s) => s.bytesIn)],
      bytes_out_total: ["Response frame bytes sent (headers included), by app.", byApp((s) => s.bytesOut)],
      rejected_total: [
        "Frames and streams refused, by canonical reason.",
        byLabel("reason", () => this.rejections),
      ],
      inflight: ["Requests being served now, by app.", byApp((s) => s.inflight), "gauge"],
      quota_exhaustions_total: ["Requests refused with 429 quota, by app.", byApp((s) => s.quotaExhaustions)],
      bus_overflow_dropped_total: [
        "Kernel bus events dropped because a subscriber was too slow.",
        single(() => this.busDropped),
      ],
      connections: [
        "Open OAP connections, by transport (tls, wss).",
        byLabel("transport", () => Object.entries(this.connectionCounts())),
        "gauge",
      ],
      transport_requests_total: [
        "Requests finished (refusals included), by the transport that carried them.",
        byTransport((s) => s.requests),
      ],
      transport_bytes_in_total: [
        "Request frame bytes received (headers included), by transport.",
        byTransport((s) => s.bytesIn),
      ],
      transport_bytes_out_total: [
        "Response frame bytes sent (headers included), by transport.",
        byTransport((s) => s.bytesOut),
      ],
      service_restarts_total: [
        "Restarts of a crashed service by the supervisor, by service.",
        byLabel("service", () => this.restartCounts),
      ],
    };
    for (const [name, [help, source, type = "counter"]] of Object.entries(scraped)) {
      registerScraped(this.registry, type, name, help, source);
    }
    new LatencyHistogram(this.registry, () => this.allApps());
    this.decompressRatio = new Histogram({
      name: "decompress_ratio",
      help: "Inflated ÷ compressed size of COMP request bodies (refused bombs included, at the point they were stopped).",
      buckets: [1, 2, 3, 5, 10, 20, 50, 100, 1000],
      registers: [this.registry],
    });
  }

  /** Gives a registered service its own `app` label; every other id counts as `unknown`. */
  registerApp(appProtoId: number): void {
    if (!this.apps.has(appProtoId)) this.apps.set(appProtoId, new AppStats(formatAppProtoId(appProtoId)));
    this.lastAppId = -1; // the remembered answer may have been `unknown` for this id
  }

  /** Declares a supervised service, so its restart counter is exposed (at 0) before any crash. */
  registerService(name: string): void {
    if (!this.restartCounts.has(name)) this.restartCounts.set(name, 0);
  }

  app(appProtoId: number): AppStats {
    if (appProtoId === this.lastAppId) return this.lastApp;
    const stats = this.apps.get(appProtoId) ?? this.unknown;
    this.lastAppId = appProtoId;
    this.lastApp = stats;
    return stats;
  }

  /** A COMP body finished inflating or was refused: one decompress_ratio observation. */
  inflated(compressedBytes: number, decompressedBytes: number): void {
    this.decompressRatio.observe(decompressedBytes / Math.max(compressedBytes, 1));
  }

  rejected(reason: string): void {
    this.rejections.set(reason, (this.rejections.get(reason) ?? 0) + 1);
  }

  serviceRestarted(service: string): void {
    this.restartCounts.set(service, (this.restartCounts.get(service) ?? 0) + 1);
  }

  busOverflowDropped(): void {
    this.busDropped++;
  }

  /** Where the `connections{transport}` gauge reads the open connections of each listener. */
  countConnectionsWith(counts: () => Record<TransportKind, number>): void {
    this.connectionCounts = counts;
  }

  transport(kind: TransportKind): TransportStats {
    return this.byTransport[kind];
  }

  /** The Prometheus text exposition: this node's metrics, then the process's. */
  async scrape(): Promise<string> {
    const [own, process] = await Promise.all([this.registry.metrics(), processRegistry().metrics()]);
    return `${own}\n${process}`;
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  snapshot(): MetricsSnapshot {
    const apps = this.allApps().map((s) => ({
      app: s.label,
      inflight: s.inflight,
      requests: s.requests,
      bytesIn: s.bytesIn,
      bytesOut: s.bytesOut,
    }));
    return {
      connections: sum(Object.values(this.connectionCounts())),
      inflight: sum(apps.map((a) => a.inflight)),
      requests: sum(apps.map((a) => a.requests)),
      rejected: sum([...this.rejections.values()]),
      quotaRejections: this.rejections.get("quota") ?? 0,
      restarts: sum([...this.restartCounts.values()]),
      busOverflowDropped: this.busDropped,
      rejectedByReason: Object.fromEntries([...this.rejections].filter(([, n]) => n > 0)),
      restartsByService: Object.fromEntries(this.restartCounts),
      apps,
    };
  }

  private allApps(): AppStats[] {
    return [...this.apps.values(), this.unknown];
  }
}

const KNOWN_CODES = new Set<number>(STATUS_CODES);

/** A backend may answer with any u16: codes outside the protocol's list share one label. */
function codeLabel(code: number): string | number {
  return KNOWN_CODES.has(code) ? code : "other";
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/**
 * `latency_seconds{app}` built from the per-app bucket counts at scrape time: prom-client's
 * own observe() hashes labels on every call, which the request path should not pay for.
 */
class LatencyHistogram extends Histogram<string> {
  constructor(
    registry: Registry,
    private readonly source: () => AppStats[],
  ) {
    super({
      name: "latency_seconds",
      help: LATENCY_HELP,
      labelNames: ["app"],
      buckets: [...LATENCY_BUCKETS],
      registers: [registry],
    });
  }

  override get(): ReturnType<Histogram<string>["get"]> {
    return this.getForPromString();
  }

  /** prom-client's registry renders histograms through this method when a metric has it. */
  async getForPromString(): ReturnType<Histogram<string>["get"]> {
    const values: Awaited<ReturnType<Histogram<string>["get"]>>["values"] = [];
    const bucket = "latency_seconds_bucket";
    for (const s of this.source()) {
      if (s.latencyCount === 0) continue;
      let cumulative = 0;
      LATENCY_BUCKETS.forEach((le, i) => {
        cumulative += s.latencyBuckets[i] ?? 0;
        values.push({ labels: { app: s.label, le }, value: cumulative, metricName: bucket });
      });
      values.push({ labels: { app: s.label, le: "+Inf" }, value: s.latencyCount, metricName: bucket });
      values.push({ labels: { app: s.label }, value: s.latencySum, metricName: "latency_seconds_sum" });
      values.push({ labels: { app: s.label }, value: s.latencyCount, metricName: "latency_seconds_count" });
    }
    const type = "histogram" as unknown as MetricType;
    return {
      name: "latency_seconds",
      help: LATENCY_HELP,
      type,
      values,
      aggregator: "sum",
      collect: () => {},
    };
  }
}

const LATENCY_HELP = "Time from a request's START frame to the end of its reply, by app.";
