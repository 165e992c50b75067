import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import {
  decodeFrame,
  encodeFrame,
  encodeStartPayload,
  Flags,
  type Frame,
  FrameDecoder,
  FrameHeaderError,
  HEADER_LEN,
} from "../src/index.js";

// The incremental decoder's guarantees beyond "same frames for any split" (properties.test.ts).

const { REQ, START, END } = Flags;

function sample(corrId: bigint, bodyLen: number): Buffer {
  return encodeFrame({
    flags: REQ | START | END,
    appProtoId: 0x0101,
    corrId,
    cap: Buffer.from("cap-bytes"),
    payload: encodeStartPayload({ n: Number(corrId) }, Buffer.alloc(bodyLen, Number(corrId) & 0xff)),
  });
}

const hex = (f: Frame) => Buffer.from(f.payload).toString("hex");

describe("FrameDecoder", () => {
  it("yields a frame that lies inside one chunk as a view of that chunk", () => {
    const chunk = Buffer.concat([sample(1n, 10), sample(2n, 20)]);
    const frames = new FrameDecoder().push(chunk);
    expect(frames).toHaveLength(2);
    expect(frames[0]?.payload.buffer).toBe(chunk.buffer);
    expect(frames[1]?.payload.buffer).toBe(chunk.buffer);
  });

  it("keeps no view of a caller's chunk between calls, so the caller may reuse its buffer", () => {
    const frame = sample(3n, 200);
    const readBuffer = Buffer.alloc(64); // like a fixed read buffer that is refilled on every read
    const decoder = new FrameDecoder();
    const frames: Frame[] = [];
    for (let at = 0; at < frame.byteLength; at += readBuffer.byteLength) {
      const n = frame.copy(readBuffer, 0, at, at + readBuffer.byteLength);
      frames.push(...decoder.push(readBuffer.subarray(0, n)));
      readBuffer.fill(0xaa); // the next read overwrites it
    }
    expect(frames).toHaveLength(1);
    expect(hex(frames[0] as Frame)).toBe(hex(decodeFrame(frame)));
  });

  it("shows the header of a frame being assembled once its 38 bytes are in", () => {
    const frame = sample(4n, 100);
    const decoder = new FrameDecoder();
    decoder.push(frame.subarray(0, HEADER_LEN - 1));
    expect(decoder.partialHeader).toBeUndefined();
    expect(decoder.buffered).toBe(HEADER_LEN - 1);
    decoder.push(frame.subarray(HEADER_LEN - 1, HEADER_LEN + 5));
    expect(decoder.partialHeader?.corrId).toBe(4n);
    expect(decoder.partialHeader?.len).toBe(frame.byteLength);
    expect(decoder.buffered).toBe(HEADER_LEN + 5);
    expect(decoder.push(frame.subarray(HEADER_LEN + 5))).toHaveLength(1);
    expect(decoder.partialHeader).toBeUndefined();
    expect(decoder.buffered).toBe(0);
  });

  it("delivers the frames before a bad header through onFrame, then throws and stays poisoned", () => {
    const bad = sample(6n, 0);
    bad.writeUInt16BE(2, 4); // ver 2
    const decoder = new FrameDecoder();
    const seen: bigint[] = [];
    const push = () => decoder.push(Buffer.concat([sample(5n, 3), bad]), (f) => seen.push(f.corrId));
    expect(push).toThrowError(expect.objectContaining({ reason: "bad_version", corrId: 6n }));
    expect(seen).toEqual([5n]);
    expect(() => decoder.push(sample(7n, 0))).toThrowError(FrameHeaderError);
  });

  it("rejects a hostile length from the header alone, without waiting for the body", () => {
    const head = sample(8n, 0).subarray(0, HEADER_LEN);
    head.writeUInt32BE(4097, 0);
    const decoder = new FrameDecoder({ maxFrame: 4096 });
    expect(() => decoder.push(head)).toThrowError(expect.objectContaining({ reason: "frame_too_large" }));
    expect(decoder.buffered).toBe(0);
  });

  it("holds memory in proportion to the frame, not to the number of reads (1-byte reads)", () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const frame = sample(9n, 512 * 1024);
    const decoder = new FrameDecoder();
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < frame.byteLength - 1; i++) decoder.push(frame.subarray(i, i + 1));
    gc();
    const grown = process.memoryUsage().heapUsed - before;
    expect(decoder.buffered).toBe(frame.byteLength - 1);
    // One retained view per read would cost ~100 bytes each: ~50 MB here.
    expect(grown).toBeLessThan(8 * 1024 * 1024);
    const [last] = decoder.push(frame.subarray(frame.byteLength - 1));
    expect(hex(last as Frame)).toBe(hex(decodeFrame(frame)));
  });
});
