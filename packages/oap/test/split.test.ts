import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_MAX_FRAME,
  decodeStartPayload,
  encodeStartPayload,
  type FramePiece,
  HEADER_LEN,
  OapError,
  splitIntoFrames,
} from "../src/internal.js";

const MIN_FRAME = 4096;
const concat = (pieces: FramePiece[]) => Buffer.concat(pieces.map((p) => p.payload));
/** Length of the frame that carries `piece`: header, capability on START only, payload. */
const frameLen = (piece: FramePiece, capLen: number) =>
  HEADER_LEN + (piece.start ? capLen : 0) + piece.payload.byteLength;

describe("splitIntoFrames", () => {
  it("puts meta and the first body bytes in START and the rest in full continuations", () => {
    const head = encodeStartPayload({ a: 1 });
    const body = Buffer.alloc(3 * MIN_FRAME + 17, 7);
    const pieces = splitIntoFrames({ maxFrame: MIN_FRAME, startPayloadHead: head, body, end: true });
    // START takes 4096 − 38 − 9 = 4049 body bytes; 8256 remain for 4058-byte continuations.
    expect(pieces.map((p) => [p.start, p.end])).toEqual([
      [true, false],
      [false, false],
      [false, false],
      [false, true],
    ]);
    expect(pieces.map((p) => p.payload.byteLength)).toEqual([4058, 4058, 4058, 140]);
    for (const piece of pieces.slice(0, -1)) expect(frameLen(piece, 0)).toBe(MIN_FRAME);
    const first = decodeStartPayload(pieces[0]?.payload ?? new Uint8Array());
    expect(first.meta).toEqual({ a: 1 });
    expect(concat(pieces).equals(Buffer.concat([head, body]))).toBe(true);
  });

  it("sends a small whole message as one START+END piece", () => {
    const head = encodeStartPayload({});
    const pieces = splitIntoFrames({
      maxFrame: MIN_FRAME,
      startPayloadHead: head,
      body: Buffer.from("x"),
      end: true,
    });
    expect(pieces).toHaveLength(1);
    expect(pieces[0]).toMatchObject({ start: true, end: true });
    expect(Buffer.from(pieces[0]?.payload ?? []).equals(Buffer.from([0, 0, 0x78]))).toBe(true);
  });

  it("opens without END when the piece does not end the stream, even with no body", () => {
    const pieces = splitIntoFrames({
      maxFrame: MIN_FRAME,
      startPayloadHead: encodeStartPayload({ k: "v" }),
      body: new Uint8Array(0),
      end: false,
    });
    expect(pieces.map((p) => [p.start, p.end])).toEqual([[true, false]]);
  });

  it("ends an open stream with one empty END piece, and sends nothing for an empty non-final piece", () => {
    expect(splitIntoFrames({ maxFrame: MIN_FRAME, body: new Uint8Array(0), end: true })).toEqual([
      { start: false, end: true, payload: new Uint8Array(0) },
    ]);
    expect(splitIntoFrames({ maxFrame: MIN_FRAME, body: new Uint8Array(0), end: false })).toEqual([]);
  });

  it("counts the capability against the START frame only", () => {
    const head = encodeStartPayload({});
    const body = Buffer.alloc(2 * MIN_FRAME, 1);
    const capLen = 1000;
    const pieces = splitIntoFrames({ maxFrame: MIN_FRAME, startPayloadHead: head, capLen, body, end: true });
    expect(frameLen(pieces[0] as FramePiece, capLen)).toBe(MIN_FRAME);
    expect(pieces[0]?.payload.byteLength).toBe(MIN_FRAME - HEADER_LEN - capLen);
    expect(frameLen(pieces[1] as FramePiece, capLen)).toBe(MIN_FRAME);
  });

  it("lets meta and capability fill the START frame exactly, the body following in continuations", () => {
    const capLen = 10;
    const head = encodeStartPayload({ pad: "x".repeat(MIN_FRAME - HEADER_LEN - capLen - 2 - 10) });
    expect(HEADER_LEN + capLen + head.byteLength).toBe(MIN_FRAME);
    const pieces = splitIntoFrames({
      maxFrame: MIN_FRAME,
      startPayloadHead: head,
      capLen,
      body: Buffer.from("b"),
      end: true,
    });
    expect(pieces.map((p) => p.payload.byteLength)).toEqual([head.byteLength, 1]);
  });

  it("refuses meta and capability that cannot fit one frame with 413 frame_too_large", () => {
    const head = encodeStartPayload({ big: "x".repeat(MIN_FRAME) });
    let caught: unknown;
    try {
      splitIntoFrames({ maxFrame: MIN_FRAME, startPayloadHead: head, body: new Uint8Array(0), end: true });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(OapError);
    expect(caught).toMatchObject({ reason: "frame_too_large", code: 413 });
    expect((caught as Error).message).toMatch(/max_frame/);
    const small = encodeStartPayload({});
    expect(() =>
      splitIntoFrames({
        maxFrame: MIN_FRAME,
        startPayloadHead: small,
        capLen: MIN_FRAME,
        body: new Uint8Array(0),
        end: true,
      }),
    ).toThrow(/max_frame/);
  });

  it("refuses a max_frame with no room for a payload byte", () => {
    expect(() => splitIntoFrames({ maxFrame: HEADER_LEN, body: Buffer.from("x"), end: true })).toThrow(
      RangeError,
    );
    expect(() => splitIntoFrames({ maxFrame: 5000.5, body: Buffer.from("x"), end: true })).toThrow(
      RangeError,
    );
  });

  it("holds its invariants for any meta, body, capability and max_frame", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: MIN_FRAME, max: DEFAULT_MAX_FRAME }),
        fc.option(fc.uint8Array({ maxLength: 3000 }), { nil: undefined }),
        fc.integer({ min: 0, max: 1000 }),
        fc.uint8Array({ maxLength: 3 * MIN_FRAME }),
        fc.boolean(),
        (maxFrame, metaBytes, capLen, body, end) => {
          const head =
            metaBytes === undefined
              ? undefined
              : Buffer.concat([
                  Buffer.from([metaBytes.byteLength >> 8, metaBytes.byteLength & 0xff]),
                  metaBytes,
                ]);
          const pieces = splitIntoFrames({
            maxFrame,
            ...(head ? { startPayloadHead: head, capLen } : {}),
            body,
            end,
          });
          // The payloads, concatenated, are exactly head + body.
          expect(concat(pieces).equals(Buffer.concat([head ?? new Uint8Array(0), body]))).toBe(true);
          // No frame exceeds max_frame.
          for (const piece of pieces)
            expect(frameLen(piece, head ? capLen : 0)).toBeLessThanOrEqual(maxFrame);
          // Exactly one START, first, when the piece opens the stream; none otherwise.
          expect(pieces.filter((p) => p.start)).toHaveLength(head ? 1 : 0);
          if (head) expect(pieces[0]?.start).toBe(true);
          // END on the last piece exactly when `end` is set, never elsewhere.
          expect(pieces.filter((p) => p.end)).toHaveLength(end ? 1 : 0);
          if (end) expect(pieces.at(-1)?.end).toBe(true);
          // Only the last piece may be short; no empty continuation except a bare END.
          for (const piece of pieces.slice(0, -1)) {
            expect(frameLen(piece, piece.start ? capLen : 0)).toBe(maxFrame);
          }
          for (const piece of pieces) {
            if (!piece.start && !piece.end) expect(piece.payload.byteLength).toBeGreaterThan(0);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
