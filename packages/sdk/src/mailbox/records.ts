import type { Meta } from "@omnigate/oap";

/**
 * The body format of mailbox replies that carry messages (RECV, SUBSCRIBE events, DLQ.LIST)
 * and of SUBSCRIBE's control messages: a sequence of records, each
 * `meta_len:u32 | meta (UTF-8 JSON object) | body_len:u32 | body`. Message bodies stay
 * opaque bytes; the record boundaries do not depend on how frames split the stream.
 */
export interface MailboxRecord {
  meta: Meta;
  body: Uint8Array;
}

const EMPTY = new Uint8Array(0);
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

export function encodeRecords(records: readonly MailboxRecord[]): Uint8Array {
  const metas = records.map((record) => encoder.encode(JSON.stringify(record.meta)));
  let size = 0;
  records.forEach((record, i) => {
    size += 8 + (metas[i] as Uint8Array).byteLength + record.body.byteLength;
  });
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let at = 0;
  records.forEach((record, i) => {
    const meta = metas[i] as Uint8Array;
    view.setUint32(at, meta.byteLength);
    out.set(meta, at + 4);
    at += 4 + meta.byteLength;
    view.setUint32(at, record.body.byteLength);
    out.set(record.body, at + 4);
    at += 4 + record.body.byteLength;
  });
  return out;
}

/** Decodes records from chunks as they arrive, however the chunks split them. */
export class RecordReader {
  private buffered: Uint8Array = EMPTY;

  constructor(private readonly maxRecordBytes: number) {}

  /** Adds a chunk; returns the records it completed. Throws on a malformed record. */
  push(chunk: Uint8Array): MailboxRecord[] {
    this.buffered = this.buffered.byteLength === 0 ? chunk : concat(this.buffered, chunk);
    const records: MailboxRecord[] = [];
    let at = 0;
    for (;;) {
      const rest = this.buffered.byteLength - at;
      if (rest < 4) break;
      const view = new DataView(this.buffered.buffer, this.buffered.byteOffset + at);
      const metaLen = view.getUint32(0);
      if (metaLen > this.maxRecordBytes) throw new Error("mailbox record meta exceeds the record size limit");
      if (rest < 8 + metaLen) break;
      const bodyLen = view.getUint32(4 + metaLen);
      if (metaLen + bodyLen > this.maxRecordBytes)
        throw new Error("mailbox record exceeds the record size limit");
      if (rest < 8 + metaLen + bodyLen) break;
      const start = at + 4;
      const meta = JSON.parse(decoder.decode(this.buffered.subarray(start, start + metaLen))) as unknown;
      if (meta === null || typeof meta !== "object" || Array.isArray(meta)) {
        throw new Error("mailbox record meta is not a JSON object");
      }
      const bodyStart = start + metaLen + 4;
      records.push({ meta: meta as Meta, body: this.buffered.slice(bodyStart, bodyStart + bodyLen) });
      at = bodyStart + bodyLen;
    }
    this.buffered = at === 0 ? this.buffered : this.buffered.subarray(at);
    return records;
  }

  /** True when no partial record is waiting for more bytes. */
  get empty(): boolean {
    return this.buffered.byteLength === 0;
  }
}

export function decodeRecords(bytes: Uint8Array, maxRecordBytes: number): MailboxRecord[] {
  const reader = new RecordReader(maxRecordBytes);
  const records = reader.push(bytes);
  if (!reader.empty) throw new Error("mailbox records end in the middle of a record");
  return records;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a, 0);
  out.set(b, a.byteLength);
  return out;
}
