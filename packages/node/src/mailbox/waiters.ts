import type { Clock } from "./clock.js";

/**
 * Long polls waiting for a topic: a send (or anything that makes a message visible) wakes
 * them, and each also wakes at its own time (deadline or the next lease expiry).
 */
export class TopicWaiters {
  private readonly byTopic = new Map<string, Set<() => void>>();

  constructor(private readonly clock: Clock) {}

  /** Resolves on a wake-up for the topic, after `ms`, or when `signal` aborts. */
  wait(key: string, ms: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve) => {
      let set = this.byTopic.get(key);
      if (!set) {
        set = new Set();
        this.byTopic.set(key, set);
      }
      const waiters = set;
      const done = (): void => {
        cancel();
        signal?.removeEventListener("abort", done);
        waiters.delete(done);
        if (waiters.size === 0 && this.byTopic.get(key) === waiters) this.byTopic.delete(key);
        resolve();
      };
      const cancel = this.clock.setTimer(ms, done);
      waiters.add(done);
      if (signal?.aborted) done();
      else signal?.addEventListener("abort", done, { once: true });
    });
  }

  wake(key: string): void {
    const set = this.byTopic.get(key);
    if (set) for (const done of [...set]) done();
  }

  wakeAll(): void {
    for (const key of [...this.byTopic.keys()]) this.wake(key);
  }
}

export function topicKey(tenant: string, topic: string): string {
  return `${tenant}\u0000${topic}`;
}
