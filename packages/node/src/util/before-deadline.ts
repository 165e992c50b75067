import { OapError } from "@omnigate/oap";
import { ENGINE_RETRY_AFTER_MS } from "./engine-unavailable.js";

/**
 * Time kept back from a request's deadline for the answer to reach the client before its own
 * timer fires: a tenth of what is left, between 50 ms and 1 s. The node's deadline runs from
 * when the START frame arrived, so it is already later than the client's by the way in.
 */
export function deadlineMargin(remainingMs: number): number {
  return Math.min(1_000, Math.max(50, remainingMs / 10));
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
  const budgetMs = remainingMs - deadlineMargin(remainingMs);
  if (!(budgetMs > 0) || !Number.isFinite(budgetMs)) return work;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(
        new OapError("not_ready", `${engine} did not answer within the request's deadline; retry shortly`, {
          retryAfterMs: ENGINE_RETRY_AFTER_MS,
        }),
      );
    }, budgetMs);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}
