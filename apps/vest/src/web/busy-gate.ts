import { OapClientError } from "@omnigate/sdk";

/** What the page shows while the node refuses for load: which rail and for how long. */
export interface BusyState {
  rail: string;
  /** When the next try goes out (ms since the epoch). */
  retryAt: number;
  code: number;
  reason: string;
}

/** 429 (quota, too many streams) and 503 (overloaded, draining) mean "come back later". */
export function isBusyRefusal(error: unknown): error is OapClientError {
  return error instanceof OapClientError && (error.code === 429 || error.code === 503);
}

/** Retry time when a busy answer names none (the node always does; a proxy might not). */
const FALLBACK_RETRY_MS = 1_000;
/** Never wait longer than this between tries, whatever the node asked. */
const MAX_RETRY_MS = 10_000;

/**
 * Runs calls of one rail (map, chat send, …) and, when the node answers 429/503, waits the
 * `retry_after_ms` it gave and tries again, telling the page meanwhile. The wait is bounded
 * by the call's own budget: a call that cannot finish in time fails instead of hanging. The
 * rail shows busy while any of its calls waits, with the soonest retry.
 */
export class BusyGate {
  /** Calls waiting out a refusal now, each with when it tries again. */
  private readonly waiting = new Map<symbol, BusyState>();
  private shown: BusyState | undefined;
  private readonly listeners = new Set<(state: BusyState | undefined) => void>();

  constructor(readonly rail: string) {}

  /** The earliest retry among the calls waiting now; undefined when none waits. */
  get busy(): BusyState | undefined {
    return this.shown;
  }

  onChange(listener: (state: BusyState | undefined) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Runs `call` until it is not refused for load, or `budgetMs` is spent (then it throws). */
  async run<T>(call: () => Promise<T>, budgetMs = 60_000, signal?: AbortSignal): Promise<T> {
    const giveUpAt = Date.now() + budgetMs;
    const me = Symbol(this.rail);
    try {
      for (;;) {
        try {
          return await call();
        } catch (error) {
          if (!isBusyRefusal(error)) throw error;
          const waitMs = Math.min(error.retryAfterMs ?? FALLBACK_RETRY_MS, MAX_RETRY_MS);
          if (Date.now() + waitMs > giveUpAt) throw error;
          this.waiting.set(me, {
            rail: this.rail,
            retryAt: Date.now() + waitMs,
            code: error.code,
            reason: error.reason,
          });
          this.update();
          await sleep(waitMs, signal);
        }
      }
    } finally {
      // Success, failure, out of budget or cancelled: this call no longer waits.
      if (this.waiting.delete(me)) this.update();
    }
  }

  private update(): void {
    let earliest: BusyState | undefined;
    for (const state of this.waiting.values()) {
      if (!earliest || state.retryAt < earliest.retryAt) earliest = state;
    }
    if (earliest === this.shown) return;
    this.shown = earliest;
    for (const listener of this.listeners) listener(earliest);
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
