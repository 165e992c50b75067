import type { Meta } from "@omnigate/oap";
import { OapRequestError } from "./errors.js";
import type { ItemOutcome } from "./turn-batcher.js";

/** What `mailbox.send()` resolves to once the node has stored the message. */
export interface SendResult {
  /** The message's id: what a delivery's msgId and `mailbox.delete()` name. */
  msgId: string;
  /** True when the idemKey matched an earlier send, so `msgId` is that send's and nothing new was stored. */
  duplicate: boolean;
}

/** A SEND batch reply's `results`, one per message: `{msg_id, duplicate}` or a refusal. */
export function sendOutcomes(reply: Meta, count: number): ItemOutcome<SendResult>[] {
  const results = Array.isArray(reply.results) ? reply.results : [];
  return Array.from({ length: count }, (_, i): ItemOutcome<SendResult> => {
    const entry = results[i];
    if (!isObject(entry)) {
      return { ok: false, error: new Error("the node's SEND batch reply has no result for this message") };
    }
    if (typeof entry.msg_id === "string") {
      return { ok: true, value: { msgId: entry.msg_id, duplicate: entry.duplicate === true } };
    }
    return { ok: false, error: refusedItem(entry, "SEND") };
  });
}

/** An ACK batch reply: every receipt acked except those `failed` lists by index. */
export function ackOutcomes(reply: Meta, count: number): ItemOutcome<void>[] {
  const failed = new Map<number, Meta>();
  for (const entry of Array.isArray(reply.failed) ? reply.failed : []) {
    if (isObject(entry) && typeof entry.i === "number") failed.set(entry.i, entry);
  }
  return Array.from({ length: count }, (_, i): ItemOutcome<void> => {
    const entry = failed.get(i);
    return entry ? { ok: false, error: refusedItem(entry, "ACK") } : { ok: true, value: undefined };
  });
}

/** The error of one item a batch reply refused (`{code, reason, retry_after_ms?}`). */
function refusedItem(entry: Meta, op: string): OapRequestError {
  const code = typeof entry.code === "number" ? entry.code : 500;
  const reason = typeof entry.reason === "string" ? entry.reason : "internal";
  return new OapRequestError(
    code,
    { ...entry, reason, message: `the node refused this ${op}: ${reason}` },
    undefined,
  );
}

function isObject(value: unknown): value is Meta {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
