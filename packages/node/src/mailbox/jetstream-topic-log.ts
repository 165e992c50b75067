import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import { OapError } from "@omnigate/oap";
import { casPublish } from "./jetstream-cas.js";
import {
  decodeTopicState,
  emptyTopicState,
  encodeTopicState,
  type TopicState,
} from "./jetstream-topic-state.js";

/**
 * Changes a topic's state record. The op edits the draft and may read the message stream;
 * it must check before it changes (an op that throws leaves the draft as it was), and it
 * may run again when another node wrote the record first.
 */
export type TopicOp<R> = (draft: TopicState, reads: AttemptReads) => R | Promise<R>;

/** Reads shared by the ops of one attempt at a batch (all on one topic), made once. */
export class AttemptReads {
  private readonly made = new Map<string, Promise<unknown>>();

  /**
   * `tight`: the record would outgrow `maxRecordBytes`, so ops must keep it within (lease only
   * what fits, keep errors short). A batch that grows the record past the limit is run again
   * with it set.
   */
  constructor(
    readonly tight = false,
    readonly maxRecordBytes = DEFAULT_MAX_RECORD_BYTES,
  ) {}

  once<T>(key: string, read: () => Promise<T>): Promise<T> {
    let made = this.made.get(key) as Promise<T> | undefined;
    if (!made) {
      made = read();
      this.made.set(key, made);
    }
    return made;
  }
}

interface KnownRecord {
  seq: number;
  data: Uint8Array;
}

interface Pending {
  op: TopicOp<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/**
 * Past this size a state record takes no growth that can wait (new leases, long NACK errors):
 * 768 KiB by default, so with HARD_LIMIT_FACTOR it stays below nats-server's default
 * max_payload (1 MiB) with room for the headers.
 */
export const DEFAULT_MAX_RECORD_BYTES = 768 * 1024;
/**
 * What is left above the limit for changes that cannot wait: leases that run out and turn
 * into dead letters (each entry gains an error), deletion marks. Only a batch that would
 * grow the record past `limit × this` is refused.
 */
const HARD_LIMIT_FACTOR = 1.3;

/** How many queued changes of one topic go into one write. */
const MAX_BATCH = 256;
/** Topics whose last written record this node keeps, to skip reading it before the next write. */
const MAX_KNOWN = 1024;

/**
 * The state records of the topics, changed by compare-and-set on the record's last stream
 * sequence (`Nats-Expected-Last-Subject-Sequence`): each write is replicated to a quorum
 * before it is answered, and a write based on a state another node changed meanwhile is
 * refused and redone on the new state. Changes queued for one topic while a write is out go
 * together into the next write (group commit), so a busy topic costs one read and one write
 * per batch instead of per operation, and this node's own operations never race each other.
 * The record this node wrote last is kept and the next batch starts from it without reading:
 * a successful compare-and-set proves it was still the latest, and a batch that has nothing
 * to write (so proves nothing) is decided again on a fresh read.
 */
export class TopicStateLog {
  private readonly queues = new Map<string, Pending[]>();
  private readonly known = new Map<string, KnownRecord>();

  constructor(
    private readonly jsm: JetStreamManager,
    private readonly js: JetStreamClient,
    private readonly stream: string,
    private readonly maxRecordBytes = DEFAULT_MAX_RECORD_BYTES,
  ) {}

  /** Reads a topic's state without changing it. */
  async read(subject: string): Promise<TopicState> {
    const stored = await this.jsm.streams.getMessage(this.stream, { last_by_subj: subject });
    return decodeTopicState(stored?.data);
  }

  apply<R>(subject: string, op: TopicOp<R>): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const pending: Pending = { op, resolve: resolve as (value: unknown) => void, reject };
      const queue = this.queues.get(subject);
      if (queue) {
        queue.push(pending);
        return;
      }
      this.queues.set(subject, [pending]);
      void this.drain(subject);
    });
  }

  private async drain(subject: string): Promise<void> {
    for (;;) {
      const queue = this.queues.get(subject) ?? [];
      const batch = queue.splice(0, MAX_BATCH);
      if (batch.length === 0) {
        this.queues.delete(subject);
        return;
      }
      await this.commit(subject, batch);
    }
  }

  private async commit(subject: string, batch: Pending[]): Promise<void> {
    try {
      let base = this.known.get(subject);
      let tight = false;
      for (;;) {
        const fromMemory = base !== undefined;
        base ??= await this.fetch(subject);
        const draft = decodeTopicState(base.data);
        const reads = new AttemptReads(tight, this.maxRecordBytes);
        const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
        for (const pending of batch) {
          try {
            outcomes.push({ ok: true, value: await pending.op(draft, reads) });
          } catch (error) {
            outcomes.push({ ok: false, error });
          }
        }
        // Unchanged when it encodes to the bytes it was read from: nothing to write.
        const after = encodeTopicState(draft);
        const grew = after.byteLength > base.data.byteLength;
        if (grew && after.byteLength > this.maxRecordBytes && !tight) {
          tight = true; // again on the same record, with ops that keep their growth in check
          continue;
        }
        if (grew && after.byteLength > this.maxRecordBytes * HARD_LIMIT_FACTOR) {
          if (fromMemory) {
            // Refused only on the record as stored now, not on this node's last copy.
            this.known.delete(subject);
            base = undefined;
            continue;
          }
          for (const pending of batch) pending.reject(stateFull(this.maxRecordBytes));
          return;
        }
        if (!Buffer.from(after).equals(Buffer.from(base.data))) {
          const seq = await casPublish(this.js, subject, after, base.seq);
          if (seq === undefined) {
            this.known.delete(subject);
            base = undefined;
            continue;
          }
          this.remember(subject, { seq, data: after });
        } else if (fromMemory) {
          base = undefined;
          continue;
        } else {
          this.remember(subject, base);
        }
        batch.forEach((pending, i) => {
          const outcome = outcomes[i];
          if (outcome?.ok) pending.resolve(outcome.value);
          else pending.reject(outcome?.error);
        });
        return;
      }
    } catch (err) {
      this.known.delete(subject);
      for (const pending of batch) pending.reject(err);
    }
  }

  private async fetch(subject: string): Promise<KnownRecord> {
    const stored = await this.jsm.streams.getMessage(this.stream, { last_by_subj: subject });
    return { seq: stored?.seq ?? 0, data: stored?.data ?? encodeTopicState(emptyTopicState()) };
  }

  private remember(subject: string, record: KnownRecord): void {
    this.known.delete(subject);
    this.known.set(subject, record);
    if (this.known.size > MAX_KNOWN) {
      const oldest = this.known.keys().next().value;
      if (oldest !== undefined) this.known.delete(oldest);
    }
  }
}

/** A topic whose delivery state is at its size limit: its consumers have to settle some first. */
export function stateFull(limit: number): OapError {
  return new OapError(
    "quota",
    `this topic's delivery state is full (its leased, delayed and dead-lettered messages fill the ${limit}-byte record): ` +
      "ack or nack leased messages, or purge or redrive the topic's dead letters",
    { retryAfterMs: 1000 },
  );
}
