import { type Span, SpanKind } from "@opentelemetry/api";
import {
  context,
  endSpan,
  extractTraceContext,
  streamAttributes,
  TraceAttributes,
  trace,
  tracerOf,
  tracingEnabled,
} from "../tracing/otel.js";
import type { SessionHandler, StreamEndInfo } from "./session.js";
import type { IncomingRequest, ResponseWriter } from "./types.js";

export interface TraceSessionsOptions {
  /** The tracer's name: the package that makes the spans (`@omnigate/node`, `@omnigate/sdk`). */
  tracer: string;
  /** The SERVER span's name. */
  spanName: string;
  /** Which requests get a span (default: all). */
  traces?: (req: IncomingRequest) => boolean;
  /** What runs a traced request instead of the inner dispatch (one that makes child spans of its own). */
  tracedDispatch?: SessionHandler["dispatch"];
}

/**
 * Wraps a session handler so each dispatched request runs under a SERVER span whose parent is
 * the trace context in its meta (`traceparent`, read by the registered propagator): dispatch
 * runs inside the span's context, so spans made by what it calls are its children, and the span
 * ends when the session reports the stream ended, with its code and reason.
 *
 * Without a registered tracer provider a request costs one flag check and nothing else.
 */
export function traceSessions(inner: SessionHandler, options: TraceSessionsOptions): SessionHandler {
  const { tracer, spanName, traces } = options;
  /** Spans of the requests dispatched and not ended yet. */
  const open = new Map<IncomingRequest, Span>();
  const innerEnded = inner.streamEnded?.bind(inner);
  const innerDispatch = inner.dispatch.bind(inner);
  const tracedDispatch = options.tracedDispatch ?? innerDispatch;
  const handler: SessionHandler = {
    dispatch(req: IncomingRequest, res: ResponseWriter) {
      if (!tracingEnabled() || (traces !== undefined && !traces(req))) return innerDispatch(req, res);
      const parent = extractTraceContext(req.meta);
      const attributes = streamAttributes(req.appProtoId, req.tenantId, req.meta);
      attributes[TraceAttributes.CORR_ID] = req.corrId.toString();
      const span = tracerOf(tracer).startSpan(spanName, { kind: SpanKind.SERVER, attributes }, parent);
      open.set(req, span);
      return context.with(trace.setSpan(parent, span), tracedDispatch, undefined, req, res);
    },
    streamEnded(info: StreamEndInfo) {
      if (open.size !== 0 && info.request !== undefined) {
        const span = open.get(info.request);
        if (span !== undefined) {
          open.delete(info.request);
          endSpan(span, info.code, info.reason);
        }
      }
      innerEnded?.(info);
    },
  };
  // The other hooks pass through as they are: an absent one keeps its meaning (no events, …).
  if (inner.event) handler.event = inner.event.bind(inner);
  if (inner.bodyReceived) handler.bodyReceived = inner.bodyReceived.bind(inner);
  if (inner.inflated) handler.inflated = inner.inflated.bind(inner);
  if (inner.rejected) handler.rejected = inner.rejected.bind(inner);
  if (inner.serviceError) handler.serviceError = inner.serviceError.bind(inner);
  return handler;
}
