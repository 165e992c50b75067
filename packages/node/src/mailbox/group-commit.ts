import { OapError } from "@omnigate/oap";
import type { Database } from "better-sqlite3";

interface PendingOp {
  op: () => unknown;
  resolve: (value: never) => void;
  reject: (error: unknown) => void;
  /** Answered only once its batch is on disk (false: once committed). */
  durable: boolean;
}

/** A committed batch: answer it once durable, or fail it. */
interface CommittedBatch {
  answer(): void;
  fail(error: Error): void;
}

/** Flushes that may run at once on the thread pool (it has 4 threads, shared with file I/O). */
const MAX_SYNCS = 2;

/** Makes every commit so far durable (fdatasync of the WAL, off the event loop); calls back once done. */
export type MakeDurable = (done: (error: Error | null) => void) => void;

/**
 * Runs operations in batches: everything queued during one turn of the event loop runs in
 * one transaction, so N sends cost one commit, not N.
 *
 * With `makeDurable`, a committed batch is answered only after a sync that started after its
 * commit finished: syncs run on the thread pool (up to MAX_SYNCS at once) while the event
 * loop commits the next batches, and each sync covers every batch committed before it
 * began. So an answered SEND is on disk, and no commit waits for a disk flush on the event
 * loop.
 * Long polls are woken only once the batch that made a message visible is durable.
 *
 * An operation that refuses its input (an OapError) must throw before it writes, so the
 * rest of the batch commits; any other error rolls the whole batch back.
 */
export class GroupCommit {
  private pending: PendingOp[] = [];
  private scheduled = false;
  private readonly afterCommit: Array<() => void> = [];
  private dead: Error | undefined;
  /** Committed batches waiting for the next sync to start. */
  private awaitingSync: CommittedBatch[] = [];
  /** Syncs running, oldest first, each with the batches committed before it began. */
  private syncs: Array<{ covered: CommittedBatch[] }> = [];
  private idle: Array<() => void> = [];

  constructor(
    private readonly db: Database,
    private readonly onBatchFailed: () => void,
    private readonly makeDurable?: MakeDurable,
  ) {}

  /**
   * Queues `op` for the next batch. `durable: false` answers it as soon as the batch is
   * committed: for operations whose loss in a power cut the rules already allow (a RECV's
   * lease: the message is delivered again) and for reads.
   */
  run<T>(op: () => T, durable = true): Promise<T> {
    if (this.dead) return Promise.reject(this.dead);
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ op, resolve: resolve as (value: never) => void, reject, durable });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Work to do once the current batch is committed and durable (wake long polls). */
  onCommit(fn: () => void): void {
    this.afterCommit.push(fn);
  }

  /** Commits what is queued now (close); its answers follow once it is durable. */
  flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0 || this.dead) return;
    const results: Array<{ ok: boolean; value: unknown }> = [];
    try {
      this.db.transaction(() => {
        for (const item of batch) {
          try {
            results.push({ ok: true, value: item.op() });
          } catch (err) {
            if (!(err instanceof OapError)) throw err;
            results.push({ ok: false, value: err });
          }
        }
      })();
    } catch (err) {
      this.afterCommit.length = 0;
      this.onBatchFailed();
      for (const item of batch) item.reject(err);
      return;
    }
    const wakes = this.afterCommit.splice(0);
    const answer = (durable: boolean): void => {
      batch.forEach((item, i) => {
        if (item.durable !== durable) return;
        const result = results[i] as { ok: boolean; value: unknown };
        if (result.ok) item.resolve(result.value as never);
        else item.reject(result.value);
      });
      if (durable) for (const fn of wakes) fn();
    };
    if (!this.makeDurable) {
      answer(false);
      return answer(true);
    }
    answer(false);
    this.awaitingSync.push({
      answer: () => answer(true),
      fail: (error) => {
        for (const item of batch) if (item.durable) item.reject(error);
      },
    });
    this.startSync();
  }

  /** Resolves once no sync is running and no committed batch waits for one. */
  settled(): Promise<void> {
    if (this.syncs.length === 0 && this.awaitingSync.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /** Drops what is queued, as a crash would: those operations never happened (or were never answered). */
  abandon(reason: Error): void {
    this.dead = reason;
    const batch = this.pending;
    this.pending = [];
    this.afterCommit.length = 0;
    for (const committed of this.awaitingSync.splice(0)) committed.fail(reason);
    for (const item of batch) item.reject(reason);
  }

  /**
   * Starts a sync for the batches committed since the last one began, unless MAX_SYNCS are
   * running: a batch then waits for one flush of its own, not for the end of the flush
   * running when it committed. A sync that ends makes every batch committed before it began
   * durable, so it answers the batches of the older syncs still running too.
   */
  private startSync(): void {
    const makeDurable = this.makeDurable;
    if (!makeDurable) return;
    if (this.awaitingSync.length === 0 || this.dead) {
      if (this.syncs.length === 0) for (const resolve of this.idle.splice(0)) resolve();
      return;
    }
    if (this.syncs.length >= MAX_SYNCS) return;
    const sync = { covered: this.awaitingSync };
    this.awaitingSync = [];
    this.syncs.push(sync);
    makeDurable((error) => {
      const at = this.syncs.indexOf(sync);
      const covered = at < 0 ? [] : this.syncs.splice(0, at + 1).flatMap((done) => done.covered);
      if (error) {
        // After a failed flush the state of the disk is unknown: answer nothing as stored and
        // take no more writes (retrying a failed fsync can report success for lost data).
        const reason = new OapError(
          "backend_unavailable",
          `the mailbox could not flush to disk (${error.message})`,
        );
        for (const committed of covered) committed.fail(reason);
        this.fail(reason);
      } else if (this.dead) {
        for (const committed of covered) committed.fail(this.dead);
      } else {
        for (const committed of covered) committed.answer();
      }
      this.startSync();
    });
  }

  private fail(reason: OapError): void {
    this.dead = reason;
    for (const running of this.syncs.splice(0))
      for (const committed of running.covered) committed.fail(reason);
    // The batches already committed cannot be answered as stored; their callers get the error.
    for (const committed of this.awaitingSync.splice(0)) committed.fail(reason);
    for (const item of this.pending.splice(0)) item.reject(reason);
  }
}
