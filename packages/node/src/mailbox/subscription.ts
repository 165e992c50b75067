import { OapError } from "@omnigate/oap";
import { encodeRecords, type IncomingRequest, RecordReader, type ResponseWriter } from "@omnigate/sdk";
import { deliveryRecord } from "./delivery-record.js";
import type { MailboxEngine } from "./engine.js";

export interface SubscriptionOptions {
  tenant: string;
  topic: string;
  ack: "auto" | "explicit";
  /** Messages the subscriber can take before it grants more. */
  credit: number;
  visibilityMs: number;
  maxBatch: number;
  /** Each long poll's length; the loop polls again until the stream ends. */
  maxWaitMs: number;
}

/** Largest control record a subscriber may send (`{"credit": n}` is a few bytes). */
const MAX_CONTROL_RECORD = 4096;

/**
 * SUBSCRIBE: a long-lived response whose body chunks carry the events (mailbox records, one
 * per message), flow-controlled by credit. The subscriber keeps its request side open and
 * grants credit with control records `{"credit": n}`; ending the request side (or the stream
 * going away) ends the subscription. With ack "auto" a message is acked as it is pushed
 * (at-most-once); with "explicit" the subscriber ACKs each receipt.
 */
export async function runSubscription(
  engine: MailboxEngine,
  req: IncomingRequest,
  res: ResponseWriter,
  /** Ends the subscription cleanly (the node is draining). */
  draining: AbortSignal,
  options: SubscriptionOptions,
): Promise<void> {
  let credit = options.credit;
  let requestEnded = false;
  let wakeCredit: (() => void) | undefined;
  const stop = new AbortController();
  const wake = (): void => {
    wakeCredit?.();
    wakeCredit = undefined;
  };
  const onAbort = (): void => {
    stop.abort();
    wake();
  };
  req.signal.addEventListener("abort", onAbort, { once: true });
  draining.addEventListener("abort", onAbort, { once: true });
  if (draining.aborted) onAbort();

  const control = (async () => {
    const reader = new RecordReader(MAX_CONTROL_RECORD);
    try {
      for await (const chunk of req.body) {
        for (const record of reader.push(chunk)) {
          const grant = record.meta.credit;
          if (typeof grant !== "number" || !Number.isSafeInteger(grant) || grant < 0) {
            throw new OapError("bad_meta", 'a subscription control record is {"credit": n} with n ≥ 0');
          }
          credit = Math.min(credit + grant, Number.MAX_SAFE_INTEGER);
          wake();
        }
      }
    } catch (err) {
      if (err instanceof OapError) res.fail(err);
    } finally {
      requestEnded = true;
      stop.abort();
      wake();
    }
  })();

  try {
    await res.start(200, { subscribed: true, ack: options.ack });
    while (!stop.signal.aborted && !res.ended) {
      if (credit <= 0) {
        await new Promise<void>((resolve) => {
          wakeCredit = resolve;
        });
        continue;
      }
      const got = await engine.recv({
        tenant: options.tenant,
        topic: options.topic,
        max: Math.min(credit, options.maxBatch),
        visibilityMs: options.visibilityMs,
        waitMs: options.maxWaitMs,
        signal: stop.signal,
      });
      if (got.length === 0) continue;
      if (stop.signal.aborted || res.ended) {
        // Nobody to push to: give the leases back at once.
        await Promise.all(
          got.map((d) => engine.nack({ tenant: options.tenant, receipt: d.receipt }, 0).catch(() => {})),
        );
        break;
      }
      // Auto-ack: acked before the push, so a message lost on the way is not redelivered.
      if (options.ack === "auto")
        await Promise.all(got.map((d) => engine.ack({ tenant: options.tenant, receipt: d.receipt })));
      credit -= got.length;
      await res.write(encodeRecords(got.map(deliveryRecord)));
    }
  } finally {
    req.signal.removeEventListener("abort", onAbort);
    draining.removeEventListener("abort", onAbort);
    stop.abort();
    wake();
    if (requestEnded || !req.signal.aborted) res.end();
    // The control reader ends with the request side; the subscription does not wait for it.
    control.catch(() => {});
  }
}
