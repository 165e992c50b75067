import type { MailboxRecord } from "@omnigate/sdk/internal";
import type { Delivery } from "./engine.js";

/** A delivery as a mailbox record: its fields in meta, the message body as the body. */
export function deliveryRecord(d: Delivery): MailboxRecord {
  return {
    meta: {
      msg_id: d.msgId,
      receipt: d.receipt,
      attempt: d.attempt,
      sent_at: d.sentAt,
      topic: d.topic,
      attrs: d.attrs,
      ...(d.e2e ? { e2e: true } : {}),
    },
    body: d.body,
  };
}
