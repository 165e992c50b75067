import type { ServiceHealth } from "../kernel/supervisor.js";
import type { MetricsSnapshot } from "../metrics/node-metrics.js";
import type { StampedEvent } from "./recent-events.js";
import type { Readiness } from "./server.js";

/** Where the status endpoints read from; every number comes from the node's metrics. */
export interface StatusSources {
  nodeId: string;
  version: string;
  startedAt: number;
  readiness(): Readiness;
  metrics(): MetricsSnapshot;
  services(): ServiceHealth[];
  events(): StampedEvent[];
}

/** The body of `/status.json` (and what `/status` shows). */
export interface StatusReport {
  node_id: string;
  version: string;
  uptime_s: number;
  ready: boolean;
  waiting_for: string[];
  connections: number;
  inflight: number;
  requests: number;
  rejected: number;
  quota_rejections: number;
  restarts: number;
  bus_overflow_dropped: number;
  rejected_by_reason: Record<string, number>;
  apps: MetricsSnapshot["apps"];
  services: ServiceHealth[];
  events: StampedEvent[];
}

export function statusReport(sources: StatusSources): StatusReport {
  const readiness = sources.readiness();
  const m = sources.metrics();
  return {
    node_id: sources.nodeId,
    version: sources.version,
    uptime_s: Math.round((Date.now() - sources.startedAt) / 1000),
    ready: readiness.ready,
    waiting_for: readiness.waitingFor,
    connections: m.connections,
    inflight: m.inflight,
    requests: m.requests,
    rejected: m.rejected,
    quota_rejections: m.quotaRejections,
    restarts: m.restarts,
    bus_overflow_dropped: m.busOverflowDropped,
    rejected_by_reason: m.rejectedByReason,
    apps: m.apps,
    services: sources.services(),
    events: sources.events(),
  };
}
