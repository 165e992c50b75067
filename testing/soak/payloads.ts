/**
 * Payloads of the soak workload, all derived from the seed so they can be checked on the way
 * back: mailbox bodies (a sequence number and its hash) and the 512 storage objects.
 */
import { createHash } from "node:crypto";
import type { MailboxMessage } from "@omnigate/sdk";

/** Storage objects of a run: a bounded set, so the node's disk use stays flat. */
export const BLOBS = 512;

/** A SEND body that says which message it is and can be checked on delivery. */
export function messageBody(seed: number, seq: number): string {
  return `${seq}:${createHash("sha256").update(`${seed}:${seq}`).digest("hex")}`;
}

/** Whether a delivered message carries a body messageBody() made for this seed. */
export function validMessage(seed: number, msg: MailboxMessage): boolean {
  const text = Buffer.from(msg.body).toString("utf8");
  const seq = Number(text.split(":")[0]);
  return Number.isSafeInteger(seq) && text === messageBody(seed, seq);
}

/** Storage object i of a run: 256 B–32 KiB of bytes derived from the seed. */
export function blob(seed: number, i: number): Buffer {
  const head = createHash("sha256").update(`blob:${seed}:${i}`).digest();
  const size = 256 + (head.readUInt32BE(0) % (32 * 1024 - 256));
  const parts: Buffer[] = [];
  for (let k = 0, n = 0; n < size; k++) {
    const part = createHash("sha256").update(`${seed}:${i}:${k}`).digest();
    parts.push(part);
    n += part.length;
  }
  return Buffer.concat(parts).subarray(0, size);
}
