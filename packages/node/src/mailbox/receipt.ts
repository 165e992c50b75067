import { OapError } from "@omnigate/oap";

/** A receipt is `<msg_id>.<delivery number>`: it names one delivery of one message. */
export function makeReceipt(msgId: string, delivery: number): string {
  return `${msgId}.${delivery}`;
}

export function parseReceipt(receipt: string): { msgId: string; delivery: number } {
  const dot = receipt.lastIndexOf(".");
  const delivery = Number(receipt.slice(dot + 1));
  if (dot <= 0 || !Number.isSafeInteger(delivery) || delivery < 1) {
    throw new OapError("bad_meta", "receipt is not one this mailbox issued: pass the receipt RECV returned");
  }
  return { msgId: receipt.slice(0, dot), delivery };
}

export function staleReceipt(): OapError {
  return new OapError(
    "stale",
    "the receipt's lease is over (expired, ended, or the message was redelivered or removed); RECV again",
  );
}
