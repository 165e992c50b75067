interface Waiter {
  grant(): void;
  fail(error: unknown): void;
}

/**
 * Counts the streams open on one connection against the node's max_inflight. Callers that find
 * no free slot wait in FIFO order; a waiter that gives up (deadline, abort) leaves the queue.
 */
export class InflightSlots {
  private used = 0;
  private readonly waiters = new Set<Waiter>();
  private failure: unknown;

  constructor(private readonly limit: number) {}

  get inUse(): number {
    return this.used;
  }

  get queued(): number {
    return this.waiters.size;
  }

  /** Takes a slot if one is free and nobody waits for one (waiters keep their FIFO turn). */
  tryAcquire(): boolean {
    if (this.failure !== undefined || this.used >= this.limit || this.waiters.size > 0) return false;
    this.used++;
    return true;
  }

  /** Resolves when a slot is held; rejects with `signal.reason` if it aborts first, or when the slots fail. */
  acquire(signal?: AbortSignal): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.tryAcquire()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        this.waiters.delete(waiter);
        reject(signal?.reason);
      };
      const waiter: Waiter = {
        grant: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
        fail: (error) => {
          signal?.removeEventListener("abort", onAbort);
          reject(error);
        },
      };
      this.waiters.add(waiter);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Frees a slot; the longest waiter, if any, takes it over. */
  release(): void {
    if (this.waiters.size > 0) {
      const next = this.waiters.values().next().value as Waiter;
      this.waiters.delete(next);
      next.grant();
      return;
    }
    if (this.used > 0) this.used--;
  }

  /** Rejects every waiter and every later acquire with `error` (the connection is gone). */
  fail(error: unknown): void {
    this.failure = error;
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const waiter of waiters) waiter.fail(error);
  }
}
