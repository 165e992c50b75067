import type { Meta } from "@omnigate/oap";
import { type OapClientError, OapRequestError } from "./errors.js";

/** Receipts per ACK request; the node takes up to 1,000. */
const MAX_BATCH = 256;

interface Waiter {
  resolve(): void;
  reject(error: unknown): void;
}

interface Batch {
  tenant: bigint | undefined;
  topic: string | undefined;
  receipts: string[];
  waiters: Waiter[];
}

/** Sends one ACK: `{receipts}` (and `topic`), for `tenant`; resolves with the reply's meta. */
export type SendAcks = (meta: Meta, tenant: bigint | undefined) => Promise<Meta>;

/**
 * Coalesces the ACKs a consumer issues in one turn of the event loop (`msg.ack()` for each
 * message of a RECV) into one request per tenant and topic, carrying `receipts`. Each
 * `ack()` still settles on its own: a stale receipt rejects only its caller.
 */
export class AckBatcher {
  private batches = new Map<string, Batch>();
  private scheduled = false;

  constructor(private readonly send: SendAcks) {}

  ack(receipt: string, tenant: bigint | undefined, topic: string | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const key = `${tenant ?? ""}\u0000${topic ?? ""}`;
      let batch = this.batches.get(key);
      if (!batch) {
        batch = { tenant, topic, receipts: [], waiters: [] };
        this.batches.set(key, batch);
      }
      batch.receipts.push(receipt);
      batch.waiters.push({ resolve, reject });
      if (batch.receipts.length >= MAX_BATCH) {
        this.batches.delete(key);
        this.dispatch(batch);
      } else if (!this.scheduled) {
        this.scheduled = true;
        // After the current microtasks: every ack() of a burst of callbacks joins the batch.
        process.nextTick(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batches = [...this.batches.values()];
    this.batches.clear();
    for (const batch of batches) this.dispatch(batch);
  }

  private dispatch(batch: Batch): void {
    const meta: Meta = { op: "ack", receipts: batch.receipts };
    if (batch.topic !== undefined) meta.topic = batch.topic;
    this.send(meta, batch.tenant).then(
      (reply) => settle(batch.waiters, reply),
      (error: unknown) => {
        for (const waiter of batch.waiters) waiter.reject(error);
      },
    );
  }
}

/** Resolves each waiter, except those the reply lists as failed (`{i, code, reason, message}`). */
function settle(waiters: Waiter[], reply: Meta): void {
  const failed = new Map<number, OapClientError>();
  if (Array.isArray(reply.failed)) {
    for (const entry of reply.failed) {
      if (entry === null || typeof entry !== "object" || Array.isArray(entry)) continue;
      const { i, code } = entry as Meta;
      if (typeof i !== "number" || typeof code !== "number") continue;
      failed.set(i, new OapRequestError(code, entry as Meta, undefined));
    }
  }
  waiters.forEach((waiter, i) => {
    const error = failed.get(i);
    if (error) waiter.reject(error);
    else waiter.resolve();
  });
}
