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
   * In tight mode: the record's size as the ops of this attempt have grown it so far, as they
   * estimate it (encoding the record once per attempt, not once per op).
   */
  estimatedBytes: number | undefined;

  /**
   * `tight`: the record would outgrow `maxRecordBytes`, so ops must keep it within (lease only
   * what fits, keep no error text). A batch that grows the record past the limit is run again
   * with it set. `hardLimitBytes`: where no change at all may take the record (the refusal
   * limit).
   */
  constructor(
    readonly tight = false,
    readonly maxRecordBytes = DEFAULT_MAX_RECORD_BYTES,
    readonly hardLimitBytes = hardLimitOf(maxRecordBytes),
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

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

interface Attempt {
  draft: TopicState;
  outcomes: Outcome[];
}

async function runOp(pending: Pending, draft: TopicState, reads: AttemptReads): Promise<Outcome> {
  try {
    return { ok: true, value: await pending.op(draft, reads) };
  } catch (error) {
    return { ok: false, error };
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

function hardLimitOf(maxRecordBytes: number): number {
  return Math.floor(maxRecordBytes * HARD_LIMIT_FACTOR);
}

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
  private readonly hardLimitBytes: number;

  constructor(
    private readonly jsm: JetStreamManager,
    private readonly js: JetStreamClient,
    private readonly stream: string,
    private readonly maxRecordBytes = DEFAULT_MAX_RECORD_BYTES,
  ) {
    this.hardLimitBytes = hardLimitOf(maxRecordBytes);
  }

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
      let fromMemory = base !== undefined;
      // plain: every op as it comes; tight: ops keep their growth in check (the record is past
      // its limit); each: ops one by one, refusing those that would take it past the hard limit.
      let mode: "plain" | "tight" | "each" = "plain";
      for (;;) {
        if (!base) {
          base = await this.fetch(subject);
          fromMemory = false;
        }
        const { draft, outcomes } =
          mode === "each" ? await this.runEach(base.data, batch) : await this.runAll(base.data, batch, mode);
        // Unchanged when it encodes to the bytes it was read from: nothing to write.
        const after = encodeTopicState(draft);
        const grew = after.byteLength > base.data.byteLength;
        if (mode === "plain" && grew && after.byteLength > this.maxRecordBytes) {
          mode = "tight"; // again on the same record
          continue;
        }
        if (mode === "tight" && grew && after.byteLength > this.hardLimitBytes) {
          if (fromMemory) {
            // Decided on the record as stored now, not on this node's last copy of it.
            this.known.delete(subject);
            base = undefined;
            continue;
          }
          mode = "each";
          continue;
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

  /** Runs every op of the batch on one draft of `data`. */
  private async runAll(data: Uint8Array, batch: Pending[], mode: "plain" | "tight"): Promise<Attempt> {
    const draft = decodeTopicState(data);
    const reads = new AttemptReads(mode === "tight", this.maxRecordBytes, this.hardLimitBytes);
    const outcomes: Outcome[] = [];
    for (const pending of batch) outcomes.push(await runOp(pending, draft, reads));
    return { draft, outcomes };
  }

  /**
   * Runs the ops one by one, undoing and refusing each that would take the record past the hard
   * limit: an ACK that shares a write with growth that cannot fit still goes through.
   */
  private async runEach(data: Uint8Array, batch: Pending[]): Promise<Attempt> {
    const reads = new AttemptReads(true, this.maxRecordBytes, this.hardLimitBytes);
    let kept = data;
    const draft = decodeTopicState(data);
    const outcomes: Outcome[] = [];
    for (const pending of batch) {
      const outcome = await runOp(pending, draft, reads);
      const now = encodeTopicState(draft);
      if (now.byteLength > reads.hardLimitBytes && now.byteLength > kept.byteLength) {
        // Undone in place: ops keep a reference to the draft that is written.
        Object.assign(draft, decodeTopicState(kept));
        outcomes.push({ ok: false, error: stateFull(this.maxRecordBytes) });
        continue;
      }
      kept = now;
      outcomes.push(outcome);
    }
    return { draft, outcomes };
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
