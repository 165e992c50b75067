import { formatAppProtoId, type OapError } from "@omnigate/oap";
import type {
  IncomingRequest,
  ResponseWriter,
  SessionHandler,
  StreamEndInfo,
  StreamTarget,
} from "@omnigate/sdk/internal";
import type { Logger } from "../log.js";
import { traceIdOf } from "../tracing/trace-id.js";
import type { NodeMetrics } from "./node-metrics.js";

/**
 * Wraps the node's session handler with metrics and request logs, fed only by the
 * session's hooks: whatever refuses a stream — the protocol rules, admission, a service —
 * is counted in `rejected_total{reason}` through `rejected`, and every request ends once
 * in `streamEnded` (refused ones included) for `requests_total`, bytes and latency.
 *
 * Log lines carry corr_id, tenant, app, code, reason, latency_ms, peer and the trace_id of the
 * request's traceparent — never a body.
 * A finished request logs at debug; server-side failures (5xx except 503, which is load or
 * a restart under way) at warn.
 */
export function observeSessions(inner: SessionHandler, metrics: NodeMetrics, log: Logger): SessionHandler {
  // Asked once, not per request; pino reports level changes.
  let debug = log.isLevelEnabled("debug");
  log.on("level-change", () => {
    debug = log.isLevelEnabled("debug");
  });
  const innerEnded = inner.streamEnded?.bind(inner);
  return {
    dispatch(req: IncomingRequest, res: ResponseWriter) {
      // Every dispatched stream reaches streamEnded (reply, failure or teardown), which takes it back.
      metrics.app(req.appProtoId).inflight++;
      return inner.dispatch(req, res);
    },
    event: inner.event?.bind(inner),
    bodyReceived: inner.bodyReceived?.bind(inner),
    inflated(target: StreamTarget, compressedBytes: number, decompressedBytes: number) {
      metrics.inflated(compressedBytes, decompressedBytes);
      inner.inflated?.(target, compressedBytes, decompressedBytes);
    },
    rejected(error: OapError, target: StreamTarget) {
      metrics.rejected(error.reason);
      if (error.reason === "quota") metrics.app(target.appProtoId).quotaExhaustions++;
      if (error.fatal) log.warn(refusalEntry(error, target), error.message);
      else if (debug) log.debug(refusalEntry(error, target), error.message);
      inner.rejected?.(error, target);
    },
    streamEnded(info: StreamEndInfo) {
      const stats = metrics.app(info.appProtoId);
      const code = info.code;
      let latencyMs: number | undefined;
      if (info.refused) {
        stats.counted(code);
      } else {
        stats.inflight--;
        latencyMs = info.endedAt - info.startedAt;
        stats.finished(code, latencyMs);
      }
      stats.bytesIn += info.bytesIn;
      stats.bytesOut += info.bytesOut;
      const carried = metrics.transport(info.transport);
      carried.requests++;
      carried.bytesIn += info.bytesIn;
      carried.bytesOut += info.bytesOut;
      if (code >= 500 && code !== 503) log.warn(requestEntry(info, latencyMs), "request failed");
      else if (debug) log.debug(requestEntry(info, latencyMs), "request");
      innerEnded?.(info);
    },
    serviceError(error: unknown, req: IncomingRequest) {
      log.error(
        {
          err: error,
          corr_id: String(req.corrId),
          tenant: tenantHex(req.tenantId),
          app: formatAppProtoId(req.appProtoId),
          peer: req.peer,
        },
        "service failed",
      );
      inner.serviceError?.(error, req);
    },
  };
}

function refusalEntry(error: OapError, target: StreamTarget): Record<string, unknown> {
  return {
    corr_id: String(target.corrId),
    tenant: tenantHex(target.tenantId),
    app: formatAppProtoId(target.appProtoId),
    code: error.code,
    reason: error.reason,
  };
}

function requestEntry(info: StreamEndInfo, latencyMs: number | undefined): Record<string, unknown> {
  return {
    corr_id: String(info.corrId),
    tenant: tenantHex(info.tenantId),
    app: formatAppProtoId(info.appProtoId),
    code: info.code,
    reason: info.reason,
    latency_ms: latencyMs,
    peer: info.peer,
    bytes_in: info.bytesIn,
    bytes_out: info.bytesOut,
    // The request's W3C traceparent, when it carried one: corr_id → trace.
    trace_id: traceIdOf(info.request?.meta),
  };
}

/** Tenant ids are u128: logged as hex, the way operators see them in tokens and tools. */
function tenantHex(tenant: bigint): string {
  return `0x${tenant.toString(16)}`;
}
