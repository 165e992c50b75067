import { OapError } from "@omnigate/oap";
import { endSpan, tracerOf } from "@omnigate/sdk/internal";
import { type Attributes, context, type Span, SpanKind, trace } from "@opentelemetry/api";

/** The tracer name of the node's own spans. */
export const NODE_TRACER = "@omnigate/node";

/**
 * Runs `step` under an INTERNAL span, a child of the active context's span, and ends the span
 * when `step` returns or its promise settles (with code and reason when it fails). Only for
 * requests that are traced: the caller checks tracingEnabled() first (see traceSessions).
 */
export function inSpan<T>(name: string, attributes: Attributes | undefined, step: () => T): T {
  const parent = context.active();
  const span = tracerOf(NODE_TRACER).startSpan(name, { kind: SpanKind.INTERNAL, attributes }, parent);
  let result: T;
  try {
    result = context.with(trace.setSpan(parent, span), step);
  } catch (error) {
    endFailed(span, error);
    throw error;
  }
  if (result instanceof Promise) {
    return result.then(
      (value: unknown) => {
        span.end();
        return value;
      },
      (error: unknown) => {
        endFailed(span, error);
        throw error;
      },
    ) as T;
  }
  span.end();
  return result;
}

function endFailed(span: Span, error: unknown): void {
  if (error instanceof OapError) endSpan(span, error.code, error.reason, error.message);
  else endSpan(span, 500, "internal", error instanceof Error ? error.message : String(error));
}
