/**
 * The one subscription on soak/sub (client 0): every pushed message is checked and ACKed as
 * its own call (`mailbox.sub_ack`); when the stream ends with an error (Redis crashed, say)
 * the error is noted and the subscription is opened again half a second later.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { OapClient } from "@omnigate/sdk";
import type { OpContext } from "./calls.js";
import { SUB } from "./op-mailbox.js";
import { validMessage } from "./payloads.js";
import { classify } from "./tally.js";

export interface SubscriptionEvent {
  at: number;
  reason: string;
}

export class Subscription {
  /** Messages pushed, and when the last one came. */
  delivered = 0;
  lastDeliveryAt: number | undefined;
  /** Why the subscription had to be opened again. */
  readonly events: SubscriptionEvent[] = [];

  constructor(
    private readonly ctx: OpContext,
    private readonly now: () => number,
  ) {}

  async run(client: OapClient | undefined, signal: AbortSignal): Promise<void> {
    if (!client) return;
    while (!signal.aborted) {
      try {
        for await (const msg of client.mailbox.subscribe(SUB, { credit: 16, visibilityMs: 30_000, signal })) {
          this.delivered++;
          this.lastDeliveryAt = this.now();
          if (!validMessage(this.ctx.seed, msg)) this.ctx.mismatch("pushed message body differs");
          this.ctx.track("mailbox.sub_ack", () => msg.ack());
        }
      } catch (err) {
        if (signal.aborted) break;
        const c = classify(err);
        this.events.push({ at: this.now(), reason: `${c.outcome} ${c.reason}` });
        await sleep(500);
      }
    }
  }
}
