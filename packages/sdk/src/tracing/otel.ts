import { formatAppProtoId } from "@omnigate/oap";
import {
  type Attributes,
  type Context,
  context,
  ProxyTracerProvider,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanStatusCode,
  type TextMapGetter,
  type Tracer,
  trace,
} from "@opentelemetry/api";

/**
 * OpenTelemetry through `@opentelemetry/api` only: without a registered tracer provider the
 * API's no-op stands in, and Omnigate skips even that (see tracingEnabled).
 */

/** Span attribute names Omnigate sets (the same on client, node and backend spans). */
export const TraceAttributes = {
  /** app_proto_id, as the hex the CLI and logs use (`0x0101`). */
  APP: "oap.app_proto_id",
  /** corr_id of the stream on its connection, decimal (a u64). */
  CORR_ID: "oap.corr_id",
  /** tenant_id, hex (a u128). */
  TENANT: "oap.tenant_id",
  /** The response status code; set when the call failed (code ≥ 400) and on server spans. */
  STATUS_CODE: "oap.status_code",
  /** The canonical reason of a failure (`quota`, `backend_timeout`, …). */
  REASON: "oap.reason",
  /** meta.op, when the request names one (mailbox and storage operations). */
  OP: "oap.op",
} as const;

/** What a tracer provider that was never registered hands out (the API's no-op). */
const NOOP_PROVIDER = new ProxyTracerProvider().getDelegate();

/**
 * True when a tracer provider is registered. Asked per request instead of creating no-op spans:
 * this check costs ~10 ns, a no-op span with its context ~250 ns, which the echo benchmark sees.
 * The global provider is the API's proxy; its delegate is the no-op until one is registered.
 */
export function tracingEnabled(): boolean {
  const provider = trace.getTracerProvider() as Partial<ProxyTracerProvider>;
  return typeof provider.getDelegate !== "function" || provider.getDelegate() !== NOOP_PROVIDER;
}

/** The tracer of a package, asked for each time so a provider registered later is used. */
export function tracerOf(name: string): Tracer {
  return trace.getTracer(name);
}

/** Reads only string values of meta, which is arbitrary JSON. */
const metaGetter: TextMapGetter<Record<string, unknown>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const value = carrier[key];
    return typeof value === "string" ? value : undefined;
  },
};

/** The trace context a request's meta carries (`traceparent`, `tracestate`), under the root context. */
export function extractTraceContext(meta: Record<string, unknown>): Context {
  return propagation.extract(ROOT_CONTEXT, meta, metaGetter);
}

/**
 * `meta` with the trace context of `ctx` written in by the registered propagator (W3C
 * `traceparent`/`tracestate` with W3CTraceContextPropagator): a copy, so the caller's object is
 * left alone. Returns `meta` itself when the propagator wrote nothing.
 */
export function injectTraceContext(
  ctx: Context,
  meta: Record<string, unknown> | undefined,
): Record<string, unknown> | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  if (Object.keys(carrier).length === 0) return meta;
  return { ...meta, ...carrier };
}

/** The attributes every Omnigate span starts with. */
export function streamAttributes(
  appProtoId: number,
  tenantId: bigint,
  meta: Record<string, unknown> | undefined,
): Attributes {
  const attributes: Attributes = {
    [TraceAttributes.APP]: formatAppProtoId(appProtoId),
    [TraceAttributes.TENANT]: `0x${tenantId.toString(16)}`,
  };
  const op = meta?.op;
  if (typeof op === "string") attributes[TraceAttributes.OP] = op;
  return attributes;
}

/** Ends a span with the outcome of its stream: code and reason on failure (code ≥ 400). */
export function endSpan(
  span: Span,
  code: number | undefined,
  reason: string | undefined,
  message?: string,
): void {
  if (code !== undefined) span.setAttribute(TraceAttributes.STATUS_CODE, code);
  if (reason !== undefined) span.setAttribute(TraceAttributes.REASON, reason);
  if ((code !== undefined && code >= 400) || reason !== undefined) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: message ?? reason });
  }
  span.end();
}

export { context, trace };
