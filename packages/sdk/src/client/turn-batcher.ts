import { nextTick } from "@omnigate/oap/internal";

/** One item's outcome in a batch reply: its result, or the error that refused it alone. */
export type ItemOutcome<R> = { ok: true; value: R } | { ok: false; error: Error };

/** Sends one batch; resolves with an outcome per item (in order), rejects if the whole request failed. */
export type DispatchBatch<K, I, R> = (key: K, items: I[]) => Promise<ItemOutcome<R>[]>;

interface Pending<K, I, R> {
  key: K;
  items: I[];
  bytes: number;
  waiters: Array<{ resolve(value: R): void; reject(error: unknown): void }>;
}

/**
 * Coalesces the calls made in one turn of the event loop (e.g. a `msg.ack()` per message of
 * a RECV, or a burst of sends) into one request per key, each call still settling on its own.
 * A batch goes out at the end of the turn, or at once when it reaches `maxItems` or
 * `maxBytes`. Nothing waits for more calls: a lone call goes out in the same turn.
 */
export class TurnBatcher<K, I, R> {
  private pending = new Map<string, Pending<K, I, R>>();
  private scheduled = false;

  constructor(
    private readonly dispatch: DispatchBatch<K, I, R>,
    private readonly limits: { maxItems: number; maxBytes: number; sizeOf(item: I): number },
  ) {}

  add(id: string, key: K, item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      let batch = this.pending.get(id);
      if (!batch) {
        batch = { key, items: [], bytes: 0, waiters: [] };
        this.pending.set(id, batch);
      }
      batch.items.push(item);
      batch.bytes += this.limits.sizeOf(item);
      batch.waiters.push({ resolve, reject });
      if (batch.items.length >= this.limits.maxItems || batch.bytes >= this.limits.maxBytes) {
        this.pending.delete(id);
        this.send(batch);
      } else if (!this.scheduled) {
        this.scheduled = true;
        // After the current microtasks: every call of a burst of callbacks joins the batch.
        nextTick(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batches = [...this.pending.values()];
    this.pending.clear();
    for (const batch of batches) this.send(batch);
  }

  private send(batch: Pending<K, I, R>): void {
    this.dispatch(batch.key, batch.items).then(
      (outcomes) =>
        batch.waiters.forEach((waiter, i) => {
          const outcome = outcomes[i];
          if (!outcome) waiter.reject(new Error("the node's batch reply has no result for this item"));
          else if (outcome.ok) waiter.resolve(outcome.value);
          else waiter.reject(outcome.error);
        }),
      (error: unknown) => {
        for (const waiter of batch.waiters) waiter.reject(error);
      },
    );
  }
}
