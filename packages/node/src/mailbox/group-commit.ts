import { OapError } from "@omnigate/oap";
import type { Database } from "better-sqlite3";

interface PendingOp {
  op: () => unknown;
  resolve: (value: never) => void;
  reject: (error: unknown) => void;
}

/**
 * Runs operations in batches: everything queued during one turn of the event loop runs in
 * one transaction, so N sends cost one commit (one fsync), not N. Each promise settles only
 * after its batch committed: an answered SEND is on disk.
 *
 * An operation that refuses its input (an OapError) must throw before it writes, so the
 * rest of the batch commits; any other error rolls the whole batch back.
 */
export class GroupCommit {
  private pending: PendingOp[] = [];
  private scheduled = false;
  private readonly afterCommit: Array<() => void> = [];
  private dead: Error | undefined;

  constructor(
    private readonly db: Database,
    private readonly onBatchFailed: () => void,
  ) {}

  run<T>(op: () => T): Promise<T> {
    if (this.dead) return Promise.reject(this.dead);
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ op, resolve: resolve as (value: never) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Work to do once the current batch has committed (wake long polls). */
  onCommit(fn: () => void): void {
    this.afterCommit.push(fn);
  }

  /** Runs what is queued now (close). */
  flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0 || this.dead) return;
    DBG.n++;
    DBG.ops += batch.length;
    const t0 = performance.now();
    if (DBG.n % 2000 === 0)
      console.error(
        `[gc] commits ${DBG.n} avg ops ${(DBG.ops / DBG.n).toFixed(1)} avg ms ${(DBG.ms / DBG.n).toFixed(3)}`,
      );
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
      DBG.ms += performance.now() - t0;
    } catch (err) {
      this.afterCommit.length = 0;
      this.onBatchFailed();
      for (const item of batch) item.reject(err);
      return;
    }
    batch.forEach((item, i) => {
      const result = results[i] as { ok: boolean; value: unknown };
      if (result.ok) item.resolve(result.value as never);
      else item.reject(result.value);
    });
    const wakes = this.afterCommit.splice(0);
    for (const fn of wakes) fn();
  }

  /** Drops what is queued, as a crash would: those operations never happened. */
  abandon(reason: Error): void {
    this.dead = reason;
    const batch = this.pending;
    this.pending = [];
    this.afterCommit.length = 0;
    for (const item of batch) item.reject(reason);
  }
}

const DBG = { n: 0, ops: 0, ms: 0 };
