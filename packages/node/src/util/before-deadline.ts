import { OapError } from "@omnigate/oap";
import { ENGINE_RETRY_AFTER_MS } from "./engine-unavailable.js";
import { withTimeout } from "./with-timeout.js";

/**
 * Time kept back from a request's deadline for the answer to reach the client before its own
 * timer fires: a tenth of what is left, between 100 ms and 1 s. The node's deadline runs from
 * when the START frame arrived, so it is already later than the client's by the way in.
 */
export function deadlineMargin(remainingMs: number): number {
  return Math.min(1_000, Math.max(100, remainingMs / 10));
}

/**
 * A request with less than this left is not bounded: a healthy engine may take a good part of
 * so short a deadline, and its late answer is better than a 503 that invites a retry.
 */
const MIN_BOUNDED_MS = 1_000;

/** ms from now until beforeDeadline answers for a silent engine (≤ 0: no time left for it). */
function engineBudgetMs(deadline: number): number {
  const remainingMs = deadline - Date.now();
  return remainingMs - deadlineMargin(remainingMs);
}

/**
 * How long a long poll may wait: until beforeDeadline's bound, less a margin again for its last
 * look, so a quiet topic is answered as one (200, nothing) rather than as a silent engine.
 */
export function longPollBudgetMs(deadline: number): number {
  const budgetMs = engineBudgetMs(deadline);
  return Math.max(0, budgetMs - deadlineMargin(budgetMs));
}

/**
 * Waits for a shared engine's answer, or answers 503 `not_ready` (retryable) just before the
 * request's deadline when the engine is still silent: a NATS cluster electing a leader, a
 * Redis that stopped answering. Without this the client only learns that its deadline passed
 * (504, not retryable), though an idempotent call could go again elsewhere or once the engine
 * is back. The engine's work goes on: it may still land, which is what idempotency keys (and
 * at-least-once delivery) are for.
 */
export function beforeDeadline<T>(deadline: number, engine: string, work: Promise<T>): Promise<T> {
  const remainingMs = deadline - Date.now();
  if (!(remainingMs >= MIN_BOUNDED_MS) || !Number.isFinite(remainingMs)) return work;
  const budgetMs = remainingMs - deadlineMargin(remainingMs);
  return withTimeout(
    work,
    budgetMs,
    () =>
      new OapError("not_ready", `${engine} did not answer within the request's deadline; retry shortly`, {
        retryAfterMs: ENGINE_RETRY_AFTER_MS,
      }),
  );
}
