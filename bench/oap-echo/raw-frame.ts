/**
 * The raw-TLS baseline's framing: `len:u32 | id:u32 | body`, big-endian, `len` = body bytes.
 * It is the least any request/response protocol over one connection needs (a boundary and a
 * correlation id), so its throughput is the floor OAP/1's extra work is measured against.
 */
import type { EchoFraming } from "./pipelined-client.js";

export const RAW_HEADER_LEN = 8;

/** The raw framing as the pipelined bench client writes and reads it. */
export const RAW_FRAMING: EchoFraming = {
  prefixBytes: 4,
  requestLength: (bodyBytes) => RAW_HEADER_LEN + bodyBytes,
  writeRequest(into, at, id, body) {
    into.writeUInt32BE(body.byteLength, at);
    into.writeUInt32BE(id, at + 4);
    into.set(body, at + RAW_HEADER_LEN);
  },
  frameLength: (bytes, at) => RAW_HEADER_LEN + bytes.readUInt32BE(at),
  replyId: (frame) => frame.readUInt32BE(4),
  replyBodyBytes: (frame) => frame.byteLength - RAW_HEADER_LEN,
};

/**
 * Splits a byte stream into whole frames. Frames that lie inside one chunk are handed out as
 * views (no copy); a frame split across chunks is assembled once, when its last byte arrives —
 * the same strategy as the OAP/1 decoder, so neither side gets a cheaper buffer policy.
 */
export class RawFrameSplitter {
  private parts: Buffer[] = [];
  private partBytes = 0;

  push(chunk: Buffer, onFrame: (frame: Buffer) => void): void {
    let offset = 0;
    if (this.partBytes > 0) {
      // Finish the frame an earlier chunk started, taking only its own bytes from this one.
      if (this.partBytes < 4) {
        offset = Math.min(4 - this.partBytes, chunk.byteLength);
        this.hold(chunk.subarray(0, offset));
        if (this.partBytes < 4) return;
        this.parts = [Buffer.concat(this.parts, this.partBytes)];
      }
      const need = RAW_HEADER_LEN + (this.parts[0] as Buffer).readUInt32BE(0);
      const take = Math.min(need - this.partBytes, chunk.byteLength - offset);
      this.hold(chunk.subarray(offset, offset + take));
      offset += take;
      if (this.partBytes < need) return;
      onFrame(this.takeParts());
    }

    while (chunk.byteLength - offset >= RAW_HEADER_LEN) {
      const end = offset + RAW_HEADER_LEN + chunk.readUInt32BE(offset);
      if (end > chunk.byteLength) break;
      onFrame(chunk.subarray(offset, end));
      offset = end;
    }
    if (offset < chunk.byteLength) this.hold(chunk.subarray(offset));
  }

  private hold(bytes: Buffer): void {
    this.parts.push(bytes);
    this.partBytes += bytes.byteLength;
  }

  private takeParts(): Buffer {
    const all =
      this.parts.length === 1 ? (this.parts[0] as Buffer) : Buffer.concat(this.parts, this.partBytes);
    this.parts = [];
    this.partBytes = 0;
    return all;
  }
}
