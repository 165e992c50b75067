/** A W3C traceparent: version, trace id, parent span id, flags (https://www.w3.org/TR/trace-context/). */
const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}/;
const INVALID_TRACE_ID = "0".repeat(32);

/**
 * The trace id of the W3C `traceparent` in a request's meta, if it has a valid one: what links
 * a request's log lines (its corr_id) to its trace, whether or not this process traces.
 */
export function traceIdOf(meta: Record<string, unknown> | undefined): string | undefined {
  const traceparent = meta?.traceparent;
  if (typeof traceparent !== "string") return undefined;
  const traceId = TRACEPARENT.exec(traceparent)?.[1];
  return traceId === INVALID_TRACE_ID ? undefined : traceId;
}
