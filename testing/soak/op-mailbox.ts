/**
 * `mailbox.send` (to soak/queue or soak/sub, a body carrying a sequence number and its hash)
 * and `mailbox.recv` (up to 8 from soak/queue without waiting, bodies checked, each message
 * then ACKed as its own call, `mailbox.ack`).
 */
import type { OapClient } from "@omnigate/sdk";
import type { OpContext } from "./calls.js";
import { messageBody, validMessage } from "./payloads.js";

export const QUEUE = "soak/queue";
export const SUB = "soak/sub";

export class MailboxOps {
  private sendSeq = 0;

  constructor(private readonly ctx: OpContext) {}

  async send(client: OapClient): Promise<void> {
    const seq = this.sendSeq++;
    const topic = this.ctx.random() < 0.5 ? QUEUE : SUB;
    await client.mailbox.send(topic, messageBody(this.ctx.seed, seq), { deadlineMs: this.ctx.deadlineMs });
  }

  async recv(client: OapClient): Promise<void> {
    const batch = await client.mailbox.recv(QUEUE, {
      max: 8,
      visibilityMs: 30_000,
      deadlineMs: this.ctx.deadlineMs,
    });
    let bad = 0;
    for (const msg of batch) {
      if (!validMessage(this.ctx.seed, msg)) bad++;
      this.ctx.track("mailbox.ack", () => msg.ack());
    }
    if (bad > 0) throw this.ctx.mismatch(`${bad} received message bodies differ`);
  }
}
