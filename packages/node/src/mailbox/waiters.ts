import type { Clock } from "./clock.js";
import type { Delivery } from "./engine.js";

/** What one look at a topic found: the leases it took, or when a message next becomes visible. */
export interface TopicLook {
  deliveries: Delivery[];
  nextVisibleAt: number | undefined;
}

/** How a RECV's long poll runs on one engine. */
export interface LongPoll {
  /** How long the RECV may wait, in ms (0: one look). */
  waitMs: number;
  signal: AbortSignal | undefined;
  /** Leases what is visible now. */
  look(): Promise<TopicLook>;
  /** The engine closed: answer with what the last look found. */
  closed(): boolean;
  /** Look again at least this often, for messages made visible through other nodes. */
  pollMs?: number;
  /** Starts hearing about the topic from elsewhere while the poll waits; returns how to stop. */
  listen?(): () => void;
}

/**
 * Long polls waiting for a topic: a send (or anything that makes a message visible) wakes
 * them, and each also wakes at its own time (deadline or the next lease expiry).
 */
export class TopicWaiters {
  private readonly byTopic = new Map<string, Set<() => void>>();
  /**
   * Wake-ups counted per topic while a long poll watches it, so one that comes while a look is
   * out is not lost. Only watched topics have an entry: a node that has seen millions of
   * topics does not keep one for each.
   */
  private readonly watched = new Map<string, { polls: number; wakes: number }>();

  constructor(private readonly clock: Clock) {}

  /** Topics a long poll is watching now (what the node keeps per topic between sends). */
  get watchedTopics(): number {
    return this.watched.size;
  }

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

  /**
   * RECV's long poll, the same on every engine: look; when nothing is visible, wait for a
   * wake-up, the next lease expiry, the deadline or `pollMs`, whichever is first, and look
   * again. A wake-up during a look makes it look again at once; an abort or the engine
   * closing during a wait ends the poll with nothing, without another look.
   */
  async longPoll(key: string, poll: LongPoll): Promise<Delivery[]> {
    const deadline = this.clock.now() + poll.waitMs;
    let watch = this.watched.get(key);
    if (!watch) {
      watch = { polls: 0, wakes: 0 };
      this.watched.set(key, watch);
    }
    watch.polls++;
    try {
      for (;;) {
        const wakes = watch.wakes;
        const { deliveries, nextVisibleAt } = await poll.look();
        if (deliveries.length > 0 || poll.closed() || poll.signal?.aborted) return deliveries;
        const now = this.clock.now();
        if (now >= deadline) return [];
        if (watch.wakes !== wakes) continue;
        const until = Math.min(
          deadline,
          nextVisibleAt ?? deadline,
          poll.pollMs === undefined ? deadline : now + poll.pollMs,
        );
        // The clock may have passed a lease's end while the look was out: look again.
        if (until <= now) continue;
        const stopListening = poll.listen?.();
        try {
          await this.wait(key, until - now, poll.signal);
        } finally {
          stopListening?.();
        }
        // An aborted RECV must not lease what nobody will receive (it would stay hidden until
        // its lease ran out), and a closed engine has nothing more to look at.
        if (poll.signal?.aborted || poll.closed()) return [];
      }
    } finally {
      if (--watch.polls === 0) this.watched.delete(key);
    }
  }

  /** Something made a message of the topic visible: waiting polls look again. */
  wake(key: string): void {
    const watch = this.watched.get(key);
    if (watch) watch.wakes++;
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
