import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  checkFrameMessage,
  encodeFrame,
  encodeStartPayload,
  Flags,
  type FrameHeaderError,
  FrameMessageSplitter,
} from "../src/internal.js";

const frame = (corrId: bigint, body: Uint8Array) =>
  encodeFrame({
    flags: Flags.REQ | Flags.START | Flags.END,
    appProtoId: 0x0101,
    corrId,
    payload: encodeStartPayload({}, body),
  });

function headerError(message: Uint8Array): FrameHeaderError | undefined {
  try {
    checkFrameMessage(message, { maxFrame: 1024 });
    return undefined;
  } catch (err) {
    return err as FrameHeaderError;
  }
}

describe("checkFrameMessage", () => {
  it("passes a message that is exactly one frame", () => {
    expect(headerError(frame(1n, Buffer.from("one")))).toBeUndefined();
  });

  it("refuses a message shorter than a header", () => {
    expect(headerError(new Uint8Array(37))?.reason).toBe("bad_frame");
  });

  it("refuses a frame split over messages and two frames in one message, with the frame's corr_id", () => {
    const whole = frame(7n, Buffer.from("split"));
    const split = headerError(whole.subarray(0, whole.byteLength - 1));
    expect(split).toMatchObject({ reason: "bad_frame", corrId: 7n });
    expect(split?.message).toMatch(/split over messages/);
    const two = headerError(Buffer.concat([whole, frame(8n, Buffer.from("x"))]));
    expect(two).toMatchObject({ reason: "bad_frame", corrId: 7n });
    expect(two?.message).toMatch(/exactly one frame/);
  });

  it("runs the header checks before the length match, so a header error keeps its own reason", () => {
    const bad = Buffer.from(frame(9n, Buffer.alloc(10)));
    bad.writeUInt16BE(2, 4); // version 2, and the message is one byte short of len as well
    expect(headerError(bad.subarray(0, bad.byteLength - 1))?.reason).toBe("bad_version");
    const huge = Buffer.from(frame(10n, Buffer.alloc(10)));
    huge.writeUInt32BE(4096, 0);
    expect(headerError(huge)?.reason).toBe("frame_too_large");
  });
});

describe("FrameMessageSplitter", () => {
  /** The messages the pieces make up, and the length each announced on its first piece. */
  function messagesOf(chunks: Uint8Array[]): { messages: Buffer[]; announced: number[] } {
    const messages: Buffer[] = [];
    const announced: number[] = [];
    let pieces: Uint8Array[] = [];
    const splitter = new FrameMessageSplitter((piece, last, frameLen) => {
      if (pieces.length === 0) announced.push(frameLen);
      else expect(frameLen).toBe(0);
      pieces.push(Buffer.from(piece));
      if (last) {
        messages.push(Buffer.concat(pieces));
        pieces = [];
      }
    });
    for (const chunk of chunks) splitter.push(chunk);
    expect(splitter.atBoundary).toBe(true);
    return { messages, announced };
  }

  it("cuts coalesced frames back into one message each, at any chunking", () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(2000), { maxLength: 12 }),
        (bodies, cuts) => {
          const frames = bodies.map((body, i) => frame(BigInt(i + 1), body));
          const stream = Buffer.concat(frames);
          const points = [...new Set(cuts.map((c) => c % (stream.byteLength + 1)))].sort((a, b) => a - b);
          const chunks: Uint8Array[] = [];
          let at = 0;
          for (const point of [...points, stream.byteLength]) {
            chunks.push(stream.subarray(at, point));
            at = point;
          }
          const { messages } = messagesOf(chunks.filter((c) => c.byteLength > 0));
          expect(messages).toEqual(frames.map((f) => Buffer.from(f)));
        },
      ),
    );
  });

  it("announces each frame's whole length on its first piece, even when a chunk ends inside a frame", () => {
    const a = frame(1n, Buffer.alloc(100, 1));
    const b = frame(2n, Buffer.alloc(100, 2));
    const stream = Buffer.concat([a, b]);
    const { messages, announced } = messagesOf([
      stream.subarray(0, 50),
      stream.subarray(50, 160),
      stream.subarray(160),
    ]);
    expect(messages).toHaveLength(2);
    expect(announced).toEqual([a.byteLength, b.byteLength]);
  });

  it("holds a len field split across chunks until it is whole", () => {
    const a = frame(1n, Buffer.from("first"));
    const b = frame(2n, Buffer.from("second"));
    const stream = Buffer.concat([a, b]);
    const cut = a.byteLength + 2; // inside b's 4-byte len
    const splitter = new FrameMessageSplitter(() => {});
    splitter.push(stream.subarray(0, cut));
    expect(splitter.atBoundary).toBe(false);
    const { messages, announced } = messagesOf([stream.subarray(0, cut), stream.subarray(cut)]);
    expect(messages).toEqual([Buffer.from(a), Buffer.from(b)]);
    expect(announced).toEqual([a.byteLength, b.byteLength]);
  });
});
