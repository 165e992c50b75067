import { type Context, context, type Span, SpanKind, trace } from "@opentelemetry/api";
import { endSpan, injectTraceContext, streamAttributes, TraceAttributes, tracerOf } from "./otel.js";

/** The outcome a failed call's span records: what OapClientError carries. */
export interface CallFailure {
  readonly code?: number;
  readonly reason?: string;
  readonly message?: string;
}

/**
 * The CLIENT span of one SDK call (`client.request()` or `client.stream()`), made only while a
 * tracer provider is registered. Its context goes into the START frame's meta through the
 * registered propagator, so the node (and the app backend behind it) continue the same trace.
 * A request's attempts (retries) share it: each attempt's corr_id is recorded as it opens.
 */
export class ClientSpan {
  /** The call's meta with the trace context written in (the caller's meta when nothing was). */
  readonly meta: Record<string, unknown> | undefined;
  private readonly span: Span;
  private attempts = 0;
  private ended = false;

  /**
   * @param endsWithStream the span ends with the call's one stream (client.stream()); otherwise
   *   the caller ends it with `finish` once every attempt is over (client.request()).
   */
  constructor(
    name: string,
    appProtoId: number,
    tenantId: bigint,
    meta: Record<string, unknown> | undefined,
    readonly endsWithStream: boolean,
  ) {
    const parent: Context = context.active();
    this.span = tracerOf("@omnigate/sdk").startSpan(
      name,
      { kind: SpanKind.CLIENT, attributes: streamAttributes(appProtoId, tenantId, meta) },
      parent,
    );
    this.meta = injectTraceContext(trace.setSpan(parent, this.span), meta);
  }

  /** An attempt's stream opened on a connection under `corrId`. */
  attached(corrId: bigint): void {
    this.attempts++;
    this.span.setAttribute(TraceAttributes.CORR_ID, corrId.toString());
    if (this.attempts > 1) this.span.addEvent("retry", { [TraceAttributes.CORR_ID]: corrId.toString() });
  }

  /** An attempt's stream is over; ends the span of a client.stream() call. */
  streamDone(failure: CallFailure | undefined): void {
    if (this.endsWithStream) this.finish(failure);
  }

  /** Ends the span: with the failure's code and reason, or with `code` when the call succeeded. */
  finish(failure: CallFailure | undefined, code?: number): void {
    if (this.ended) return;
    this.ended = true;
    if (failure) endSpan(this.span, failure.code, failure.reason ?? "internal", failure.message);
    else endSpan(this.span, code, undefined);
  }

  /** Ends the span with whatever a call rejected with. */
  fail(error: unknown): void {
    const failure = error as CallFailure | undefined;
    this.finish({
      code: typeof failure?.code === "number" ? failure.code : undefined,
      reason: typeof failure?.reason === "string" ? failure.reason : "internal",
      message: error instanceof Error ? error.message : String(error),
    });
  }
}
