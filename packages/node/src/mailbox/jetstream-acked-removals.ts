import type { Clock } from "./clock.js";

/** The stream operations removal needs: both may fail, and a failure is retried later. */
export interface MessageRemover {
  /** Removes every message on `subject` with a sequence below `floor` (one replicated purge). */
  purgeBelow(subject: string, floor: number): Promise<void>;
  /** Removes one message. */
  removeOne(seq: number): Promise<void>;
}

/** Holes removed one by one in one round at most; the rest go in the next. */
const MAX_HOLES_PER_ROUND = 64;

interface TopicRemovals {
  /** The highest floor an ack's state write reported. */
  floor: number;
  /** Everything below this was purged by this node. */
  purgedTo: number;
  /** Acked messages not yet removed, by when acked: below the floor they wait for the purge,
   * at or above it (an older message is still out) they are holes, removed alone after a hold. */
  pending: Map<number, number>;
  /** Acks waiting for the purge of the next drain round. */
  waiting: Array<() => void>;
  running: Promise<void> | undefined;
  again: boolean;
  cancelTimer: (() => void) | undefined;
}

/**
 * Takes acked messages out of the message stream in batches. Removing each one on its own
 * would cost a replicated write per message, as much as storing it; instead, once an ack's
 * state write shows the topic's floor (jetstream-topic-state.ts `floorOf`) has risen, one
 * purge of the topic's subject below the floor removes every acked message under it, whichever
 * node acked it. An acked message above the floor (an older one is still leased or dead) waits
 * `holdMs` for the floor to pass it and is then removed on its own, so a dead letter does not
 * keep later messages stored. One removal runs per topic at a time; acks that arrive meanwhile
 * go into the next. Nothing here decides delivery: the state no longer names an acked message,
 * so a removal that is lost (node stopped) only leaves bytes, and the next purge takes them.
 */
export class AckedRemovals {
  private readonly topics = new Map<string, TopicRemovals>();
  private closed = false;
  /** Reads of the stream's counts under way (see `counting`): removals wait for them. */
  private holds = 0;
  private readonly deferred = new Set<string>();
  /** Counts waiting for the ones under way to end, so deferred removals get their round. */
  private released: Array<() => void> = [];

  constructor(
    private readonly remover: MessageRemover,
    private readonly clock: Clock,
    private readonly holdMs: number,
  ) {}

  /**
   * `seq` on `subject` was acked by a state write whose floor was `floor`. Resolves once a
   * message below the floor is purged (one purge serves every ack of a round, and the ACK is
   * answered after it, so a SEND after it finds the room) or, above the floor, at once: it is
   * then counted as pending until removed. Never rejects: what fails stays pending.
   */
  acked(subject: string, seq: number, floor: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    let topic = this.topics.get(subject);
    if (!topic) {
      // Sequences start at 1: there is never anything below it to purge.
      topic = {
        floor,
        purgedTo: 1,
        pending: new Map(),
        waiting: [],
        running: undefined,
        again: false,
        cancelTimer: undefined,
      };
      this.topics.set(subject, topic);
    }
    topic.floor = Math.max(topic.floor, floor);
    topic.pending.set(seq, this.clock.now());
    const purged =
      seq < topic.floor ? new Promise<void>((resolve) => topic.waiting.push(resolve)) : Promise.resolve();
    this.run(subject, topic);
    return purged;
  }

  /**
   * Runs `read` (of the stream's message counts) while no removal is under way, and answers
   * with it the acked messages of each subject this node has not removed yet: they are still
   * in those counts, and depth and the depth limit must not count them. A removal running
   * during the read would leave it unknown whether the count saw it. Removals held back by
   * counts go first: a count that finds some waiting lets the counts under way end and the
   * removals run before it starts, so back-to-back counts cannot starve ACKs.
   */
  async counting<T>(read: () => Promise<T>): Promise<{ value: T; pending: Map<string, number> }> {
    while (this.holds > 0 && this.deferred.size > 0) {
      await new Promise<void>((resolve) => this.released.push(resolve));
    }
    this.holds++;
    try {
      const running: Promise<void>[] = [];
      for (const topic of this.topics.values()) if (topic.running) running.push(topic.running);
      await Promise.all(running);
      const value = await read();
      // Taken after the read: nothing left `pending` during it (removals wait), and what an
      // ACK added meanwhile is still in the count.
      const pending = new Map<string, number>();
      for (const [subject, topic] of this.topics) {
        if (topic.pending.size > 0) pending.set(subject, topic.pending.size);
      }
      return { value, pending };
    } finally {
      this.holds--;
      if (this.holds === 0) {
        for (const subject of this.deferred) {
          const topic = this.topics.get(subject);
          if (topic) this.run(subject, topic);
        }
        this.deferred.clear();
        for (const resolve of this.released.splice(0)) resolve();
      }
    }
  }

  /** Waits for removals under way; what is still held stays stored for a later purge. */
  async close(): Promise<void> {
    this.closed = true;
    const running: Promise<void>[] = [];
    for (const topic of this.topics.values()) {
      topic.cancelTimer?.();
      if (topic.running) running.push(topic.running);
      for (const resolve of topic.waiting.splice(0)) resolve();
    }
    await Promise.all(running);
    this.topics.clear();
    for (const resolve of this.released.splice(0)) resolve();
  }

  private run(subject: string, topic: TopicRemovals): void {
    if (this.closed) return;
    if (topic.running) {
      topic.again = true;
      return;
    }
    if (this.holds > 0) {
      this.deferred.add(subject);
      return;
    }
    topic.cancelTimer?.();
    topic.cancelTimer = undefined;
    topic.running = this.drain(subject, topic).finally(() => {
      topic.running = undefined;
      this.afterDrain(subject, topic);
    });
  }

  private async drain(subject: string, topic: TopicRemovals): Promise<void> {
    do {
      topic.again = false;
      const floor = topic.floor;
      const waiting = topic.waiting.splice(0);
      if (floor > topic.purgedTo) {
        try {
          await this.remover.purgeBelow(subject, floor);
          topic.purgedTo = floor;
        } catch {
          // Left for the next ack's drain or the hold timer; every node's purge covers it too.
        }
      }
      for (const resolve of waiting) resolve();
      const now = this.clock.now();
      const due: number[] = [];
      for (const [seq, at] of topic.pending) {
        if (seq < topic.purgedTo) topic.pending.delete(seq);
        else if (seq >= topic.floor && now - at >= this.holdMs) due.push(seq);
      }
      // A bounded round, so a count waiting for it does not wait on thousands of deletes.
      const more = due.length > MAX_HOLES_PER_ROUND;
      if (more) due.length = MAX_HOLES_PER_ROUND;
      let removed = 0;
      await Promise.all(
        due.map(async (seq) => {
          try {
            await this.remover.removeOne(seq);
            topic.pending.delete(seq);
            removed++;
          } catch {
            // Kept, and tried again after another hold: no retry storm while the stream fails.
            topic.pending.set(seq, this.clock.now());
          }
        }),
      );
      // The rest at once only while removals succeed; otherwise after the hold (afterDrain).
      if (more && removed > 0) topic.again = true;
    } while (topic.again && !this.closed && this.holds === 0);
    if (topic.again && this.holds > 0) this.deferred.add(subject);
  }

  private afterDrain(subject: string, topic: TopicRemovals): void {
    if (this.closed) return;
    // Acks that came in while it ran (or while counts were read) still wait for a round.
    if (topic.again || topic.waiting.length > 0) return this.run(subject, topic);
    if (topic.pending.size === 0 && topic.purgedTo >= topic.floor) {
      this.topics.delete(subject);
      return;
    }
    let oldest = Number.POSITIVE_INFINITY;
    for (const [seq, at] of topic.pending) if (seq >= topic.floor) oldest = Math.min(oldest, at);
    const wait = Number.isFinite(oldest) ? Math.max(0, oldest + this.holdMs - this.clock.now()) : this.holdMs;
    topic.cancelTimer = this.clock.setTimer(wait, () => {
      topic.cancelTimer = undefined;
      this.run(subject, topic);
    });
  }
}
