import { OapError } from "@omnigate/oap";

/** What a client is told to wait before sending again when a shared engine does not answer. */
export const ENGINE_RETRY_AFTER_MS = 1_000;

/**
 * The error for a request whose shared engine (a Redis, a NATS cluster, an object store) did
 * not answer: 503 `not_ready` with `retry_after_ms`. The engine may have done the work and lost
 * only the answer, so the SDK sends again only requests that carry an idempotency key (mailbox
 * SENDs dedupe on it; storage PUTs are idempotent by address); once the engine is back (a
 * leader elected, a server restarted) the retry goes through, on this node or another.
 */
export function engineUnavailable(engine: string, cause: unknown): OapError {
  const why = cause instanceof Error ? cause.message : String(cause);
  return new OapError("not_ready", `${engine} did not answer (${why}); retry shortly`, {
    retryAfterMs: ENGINE_RETRY_AFTER_MS,
  });
}
