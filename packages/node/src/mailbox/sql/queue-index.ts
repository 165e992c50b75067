import { MinHeap } from "./min-heap.js";

/** Stale visibility marks a topic may hold beyond twice its live messages before they are swept. */
const COMPACT_SLACK = 1024;

/** Row states (the `state` column). */
export const READY = 0;
export const LEASED = 1;
export const DEAD = 2;
export const DELAYED = 3;
export type LiveState = typeof READY | typeof LEASED | typeof DELAYED;

/** What the engine keeps in memory of a message that is not dead-lettered. */
export interface LiveMessage {
  readonly seq: number;
  readonly queue: TopicQueue;
  state: LiveState;
  /** Leased or delayed: when the message is visible again. */
  visibleAt: number;
  attempt: number;
  deliveries: number;
}

/** A message as QueueIndex.add takes it: its row's seq, topic and queue state. */
export interface IndexEntry {
  seq: number;
  tenant: string;
  topic: string;
  state: LiveState;
  /** Leased or delayed: when the message is visible again. */
  visibleAt: number;
  /** Deliveries counted against mailbox.max_attempts (a redrive starts them again). */
  attempt: number;
  /** Deliveries in all, redrives included. */
  deliveries: number;
}

interface HiddenMark {
  at: number;
  seq: number;
}

/** One tenant's topic: its ready messages in seq order and its hidden ones by visibility. */
export class TopicQueue {
  /** Seqs of new messages, in send order (appended; consumed from `head`). */
  readonly fresh: number[] = [];
  head = 0;
  /** Seqs that became ready again (redeliveries, redrives), smallest first. */
  readonly returned = new MinHeap<number>((a, b) => a < b);
  readonly hidden = new MinHeap<HiddenMark>((a, b) => a.at < b.at || (a.at === b.at && a.seq < b.seq));
  /** Live messages of the topic; the queue is dropped at 0. */
  count = 0;

  constructor(
    readonly tenant: string,
    readonly topic: string,
    readonly key: string,
  ) {}
}

/**
 * The queue state of every live message, in memory, so RECV, ACK, NACK and EXTEND find what
 * they need without index lookups in SQLite: the database keeps each message as one row by
 * its primary key, and this index is rebuilt from the rows when the engine opens (or after a
 * failed commit). Entries in the queues are removed lazily: a popped seq counts only while
 * the message's live state still matches.
 */
export class QueueIndex {
  readonly live = new Map<number, LiveMessage>();
  private readonly topics = new Map<string, TopicQueue>();

  constructor(private readonly keyOf: (tenant: string, topic: string) => string) {}

  find(tenant: string, topic: string): TopicQueue | undefined {
    return this.topics.get(this.keyOf(tenant, topic));
  }

  /** Adds a message (a send, a redrive, or a row read when the engine opens). */
  add(entry: IndexEntry): LiveMessage {
    const { seq, tenant, topic, state, visibleAt, attempt, deliveries } = entry;
    const key = this.keyOf(tenant, topic);
    let queue = this.topics.get(key);
    if (!queue) {
      queue = new TopicQueue(tenant, topic, key);
      this.topics.set(key, queue);
    }
    const message: LiveMessage = { seq, queue, state, visibleAt, attempt, deliveries };
    this.live.set(seq, message);
    queue.count++;
    if (state === READY) {
      const last = queue.fresh[queue.fresh.length - 1];
      if (queue.head >= queue.fresh.length || last === undefined || seq > last) queue.fresh.push(seq);
      else queue.returned.push(seq);
    } else {
      this.pushHidden(queue, { at: visibleAt, seq });
    }
    return message;
  }

  remove(message: LiveMessage): void {
    if (this.live.get(message.seq) !== message) return;
    this.live.delete(message.seq);
    const queue = message.queue;
    if (--queue.count === 0) this.topics.delete(queue.key);
  }

  /** Leased or delayed until `at`. */
  hide(message: LiveMessage, state: typeof LEASED | typeof DELAYED, at: number): void {
    message.state = state;
    message.visibleAt = at;
    this.pushHidden(message.queue, { at, seq: message.seq });
  }

  /** Visible again, in its original place (seq order). A ready message keeps its one entry. */
  makeReady(message: LiveMessage): void {
    if (message.state === READY) return;
    message.state = READY;
    message.queue.returned.push(message.seq);
  }

  /**
   * Takes the hidden messages whose time came, each once (an EXTEND to the same time leaves
   * two marks); they are not ready yet: the caller decides.
   */
  takeDue(queue: TopicQueue, now: number): LiveMessage[] {
    const due = new Set<LiveMessage>();
    for (let mark = queue.hidden.peek(); mark && mark.at <= now; mark = queue.hidden.peek()) {
      queue.hidden.pop();
      const message = this.live.get(mark.seq);
      if (message && message.state !== READY && message.visibleAt === mark.at) due.add(message);
    }
    return [...due];
  }

  /** Takes the ready message with the smallest seq. */
  takeReady(queue: TopicQueue): LiveMessage | undefined {
    for (;;) {
      const fresh = queue.head < queue.fresh.length ? (queue.fresh[queue.head] as number) : undefined;
      const back = queue.returned.peek();
      if (fresh === undefined && back === undefined) return undefined;
      let seq: number;
      if (back === undefined || (fresh !== undefined && fresh < back)) {
        seq = fresh as number;
        this.advanceFresh(queue);
      } else {
        seq = back;
        queue.returned.pop();
      }
      const message = this.live.get(seq);
      if (message && message.state === READY && message.queue === queue) return message;
    }
  }

  /** When the next hidden message of the topic becomes visible. */
  nextVisibleAt(queue: TopicQueue): number | undefined {
    for (let mark = queue.hidden.peek(); mark; mark = queue.hidden.peek()) {
      const message = this.live.get(mark.seq);
      if (message && message.state !== READY && message.visibleAt === mark.at) return mark.at;
      queue.hidden.pop();
    }
    return undefined;
  }

  /** Live messages by state now (`ready` includes hidden ones whose time came). */
  depth(now: number): { ready: number; inflight: number; delayed: number } {
    const depth = { ready: 0, inflight: 0, delayed: 0 };
    for (const message of this.live.values()) {
      if (message.state === READY || message.visibleAt <= now) depth.ready++;
      else if (message.state === LEASED) depth.inflight++;
      else depth.delayed++;
    }
    return depth;
  }

  clear(): void {
    this.live.clear();
    this.topics.clear();
  }

  /**
   * Adds a visibility mark. Marks of acked, extended or redelivered messages are dropped
   * lazily when they come due; a consumer that EXTENDs in a loop (or acks long leases) would
   * pile them up until then, so once stale marks outnumber the topic's live messages the
   * heap is rebuilt from the live ones: O(n) now and then, O(1) per mark over time.
   */
  private pushHidden(queue: TopicQueue, mark: HiddenMark): void {
    queue.hidden.push(mark);
    if (queue.hidden.size <= 2 * queue.count + COMPACT_SLACK) return;
    const marked = new Set<number>();
    queue.hidden.retain((m) => {
      const message = this.live.get(m.seq);
      const current =
        message !== undefined &&
        message.queue === queue &&
        message.state !== READY &&
        message.visibleAt === m.at &&
        !marked.has(m.seq);
      if (current) marked.add(m.seq);
      return current;
    });
  }

  private advanceFresh(queue: TopicQueue): void {
    queue.head++;
    // Drop the consumed prefix now and then, so the array does not grow without bound.
    if (queue.head >= 1024 && queue.head * 2 >= queue.fresh.length) {
      queue.fresh.splice(0, queue.head);
      queue.head = 0;
    }
  }
}
