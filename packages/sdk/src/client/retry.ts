import { OapClientError } from "./errors.js";

/** How a retryable call is tried again: capped full-jitter exponential backoff (backoffMs). */
export interface RetryPolicy {
  /** Backoff base in ms (default 100). */
  baseMs: number;
  /** Upper bound of one backoff in ms (default 5000). */
  capMs: number;
  /** Attempts in all, the first included (default 5). */
  maxAttempts: number;
}

/** Full-jitter exponential backoff: random(0, min(cap, base·2^attempt)), attempt counted from 0. */
export function backoffMs(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** attempt);
  return random() * ceiling;
}

/**
 * How long to wait before attempt `attempt + 1`, or undefined when the error must be returned:
 * not retryable, attempts used up, or the wait (at least the node's retry_after_ms) would not
 * end before the deadline.
 */
export function retryDelay(
  error: unknown,
  policy: RetryPolicy,
  attempt: number,
  remainingMs: number,
): number | undefined {
  if (!(error instanceof OapClientError) || !error.retryable) return undefined;
  if (attempt + 1 >= policy.maxAttempts) return undefined;
  const delay = Math.max(backoffMs(policy, attempt), error.retryAfterMs ?? 0);
  return delay < remainingMs ? delay : undefined;
}
