import type { MsgHdrs } from "@nats-io/transport-node";

/** A message as RECV needs it: where it is in the stream, its headers and its body. */
export interface MessageCopy {
  seq: number;
  subject: string;
  header: MsgHdrs;
  data: Uint8Array;
}

/** Per-entry bookkeeping counted against the byte budget besides the body. */
const ENTRY_OVERHEAD_BYTES = 256;

/**
 * The messages this node stored lately, by stream sequence, so a RECV on the same node reads
 * them without a request per message (nats-server 2.9 has no batched get). A stream sequence
 * names one message for the life of the stream, so a copy is never wrong about what it holds
 * (the engine drops the copies when it reconnects and when the stream is made anew). It can outlive the
 * stored message only when DELETE removes it before its first delivery, on this node or
 * another: the topic's state then marks it deleted, and a RECV skips it (that mark, not this
 * cache, decides). Oldest copies go first past the byte budget; a copy is dropped once its
 * message has been handed out, since a redelivery reads the stream.
 */
export class SentCache {
  private readonly copies = new Map<number, MessageCopy>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  remember(copy: MessageCopy): void {
    if (this.copies.has(copy.seq)) return;
    this.copies.set(copy.seq, copy);
    this.bytes += copy.data.byteLength + ENTRY_OVERHEAD_BYTES;
    // Sequences arrive in about stream order, so insertion order is age order.
    for (const [seq, old] of this.copies) {
      if (this.bytes <= this.maxBytes) break;
      this.drop(seq, old);
    }
  }

  get(seq: number): MessageCopy | undefined {
    return this.copies.get(seq);
  }

  forget(seq: number): void {
    const copy = this.copies.get(seq);
    if (copy) this.drop(seq, copy);
  }

  /** Forgets every copy (a new connection may find the streams made anew, sequences reused). */
  clear(): void {
    this.copies.clear();
    this.bytes = 0;
  }

  get size(): number {
    return this.copies.size;
  }

  private drop(seq: number, copy: MessageCopy): void {
    this.copies.delete(seq);
    this.bytes -= copy.data.byteLength + ENTRY_OVERHEAD_BYTES;
  }
}
