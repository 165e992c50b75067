import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decodeFrame,
  decodeStartPayload,
  encodeFrame,
  Flags,
  type Frame,
  FrameDecoder,
  FrameHeaderError,
  type FrameInit,
  HEADER_LEN,
  isReason,
  KIND_FLAGS_MASK,
  OapError,
  REASONS,
  RESERVED_FLAGS_MASK,
} from "../src/internal.js";
import { hexOf, plain } from "./support.js";

const RUNS = { numRuns: 1000 };
const U64_MAX = (1n << 64n) - 1n;
const U128_MAX = (1n << 128n) - 1n;

/** What decoding `init` must give back. */
/** Every field a sender can set, apart from the optional numeric twin of corrId. */
type FullInit = Required<Omit<FrameInit, "corrKey">>;

function expected(init: FullInit) {
  return {
    len: HEADER_LEN + init.cap.byteLength + init.payload.byteLength,
    ver: 1,
    flags: init.flags,
    code: init.code,
    appProtoId: init.appProtoId,
    tenantId: init.tenantId,
    capLen: init.cap.byteLength,
    corrId: init.corrId,
    cap: hexOf(init.cap),
    payload: hexOf(init.payload),
  };
}

/** Arbitrary header-valid frames: exactly one kind bit, optional modifiers, cap only on START. */
function frameArb(maxCap: number, maxPayload: number): fc.Arbitrary<FullInit> {
  return fc
    .record({
      kind: fc.constantFrom(Flags.REQ, Flags.RESP, Flags.EVENT),
      start: fc.boolean(),
      end: fc.boolean(),
      ackReq: fc.boolean(),
      comp: fc.boolean(),
      appE2e: fc.boolean(),
      code: fc.integer({ min: 0, max: 0xffff }),
      appProtoId: fc.integer({ min: 0, max: 0xffff }),
      tenantId: fc.bigInt({ min: 0n, max: U128_MAX }),
      corrId: fc.bigInt({ min: 0n, max: U64_MAX }),
      cap: fc.uint8Array({ maxLength: maxCap }),
      payload: fc.uint8Array({ maxLength: maxPayload }),
    })
    .map((r) => ({
      flags:
        r.kind |
        (r.start ? Flags.START : 0) |
        (r.end ? Flags.END : 0) |
        (r.ackReq ? Flags.ACK_REQ : 0) |
        (r.comp ? Flags.COMP : 0) |
        (r.appE2e ? Flags.APP_E2E : 0),
      code: r.code,
      appProtoId: r.appProtoId,
      tenantId: r.tenantId,
      corrId: r.corrId,
      cap: r.start ? r.cap : new Uint8Array(0),
      payload: r.payload,
    }));
}

/** Cuts `bytes` at the given (unsorted, possibly repeated or out-of-range) points. */
function split(bytes: Uint8Array, points: number[]): Uint8Array[] {
  const cuts = [...new Set(points.map((p) => p % (bytes.byteLength + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let at = 0;
  for (const cut of [...cuts, bytes.byteLength]) {
    chunks.push(bytes.subarray(at, cut));
    at = cut;
  }
  return chunks;
}

function decodeAll(chunks: Uint8Array[]): Frame[] {
  const decoder = new FrameDecoder();
  const frames = chunks.flatMap((chunk) => decoder.push(chunk));
  expect(decoder.buffered).toBe(0);
  return frames;
}

describe("encode → decode", () => {
  it("gives back every field of an arbitrary valid frame, and re-encodes to the same bytes", () => {
    fc.assert(
      fc.property(frameArb(600, 4096), (init) => {
        const bytes = encodeFrame(init);
        const frame = decodeFrame(bytes);
        expect(plain(frame)).toEqual(expected(init));
        expect(encodeFrame({ ...frame }).equals(bytes)).toBe(true);
        // decodeFrame takes exactly one whole frame: a byte short or a byte over is bad_frame
        // (with the header's corr_id, unless the header itself is cut short).
        const short = bytes.subarray(0, bytes.byteLength - 1);
        const long = Buffer.concat([bytes, Buffer.of(0)]);
        for (const wrong of [short, long]) {
          const corrId = wrong.byteLength < HEADER_LEN ? 0n : init.corrId;
          expect(() => decodeFrame(wrong)).toThrowError(
            expect.objectContaining({ name: "FrameHeaderError", reason: "bad_frame", corrId }),
          );
        }
      }),
      RUNS,
    );
  });
});

describe("FrameDecoder", () => {
  it("yields the same frames for every split of a byte stream, including 1-byte chunks", () => {
    fc.assert(
      fc.property(
        fc.array(frameArb(64, 512), { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        (inits, points) => {
          const stream = Buffer.concat(inits.map((init) => encodeFrame(init)));
          const want = inits.map(expected);
          expect(decodeAll([stream]).map(plain)).toEqual(want);
          expect(decodeAll(split(stream, points)).map(plain)).toEqual(want);
          const bytewise = Array.from({ length: stream.byteLength }, (_, i) => stream.subarray(i, i + 1));
          expect(decodeAll(bytewise).map(plain)).toEqual(want);
        },
      ),
      RUNS,
    );
  });

  it("only yields valid frames or throws a canonical header error, and buffers less than max_frame", () => {
    const maxFrame = 4096;
    /** A 38-byte header with random fields, biased towards values that pass some checks. */
    const headerArb = fc
      .record({
        len: fc.oneof(
          fc.integer({ min: 0, max: 0xffffffff }),
          fc.integer({ min: 0, max: maxFrame + 64 }),
          fc.constantFrom(0, 37, 38, maxFrame, maxFrame + 1, 0xffffffff),
        ),
        ver: fc.oneof(fc.constant(1), fc.integer({ min: 0, max: 0xffff })),
        flags: fc.oneof(
          fc.integer({ min: 0, max: 0xffff }),
          fc.integer({ min: 0, max: 0xff }),
          fc.constantFrom(0x19, 0x1a, 0x1c, 0x08, 0x01, 0x12),
        ),
        code: fc.integer({ min: 0, max: 0xffff }),
        appProtoId: fc.integer({ min: 0, max: 0xffff }),
        tenantHi: fc.bigInt({ min: 0n, max: U64_MAX }),
        tenantLo: fc.bigInt({ min: 0n, max: U64_MAX }),
        capLen: fc.oneof(
          fc.integer({ min: 0, max: 0xffff }),
          fc.integer({ min: 0, max: 64 }),
          fc.constant(0),
        ),
        corrId: fc.bigInt({ min: 0n, max: U64_MAX }),
      })
      .map((h) => {
        const b = Buffer.alloc(HEADER_LEN);
        b.writeUInt32BE(h.len, 0);
        b.writeUInt16BE(h.ver, 4);
        b.writeUInt16BE(h.flags, 6);
        b.writeUInt16BE(h.code, 8);
        b.writeUInt16BE(h.appProtoId, 10);
        b.writeBigUInt64BE(h.tenantHi, 12);
        b.writeBigUInt64BE(h.tenantLo, 20);
        b.writeUInt16BE(h.capLen, 28);
        b.writeBigUInt64BE(h.corrId, 30);
        return new Uint8Array(b);
      });
    const pieceArb = fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      headerArb,
      frameArb(32, 256).map((init) => new Uint8Array(encodeFrame(init))),
    );

    fc.assert(
      fc.property(
        fc.array(pieceArb, { maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        (pieces, points) => {
          const decoder = new FrameDecoder({ maxFrame });
          let fed = 0;
          let framed = 0;
          let failure: unknown;
          for (const chunk of split(Buffer.concat(pieces), points)) {
            try {
              const frames = decoder.push(chunk);
              fed += chunk.byteLength;
              for (const f of frames) {
                expect(f.ver).toBe(1);
                expect(f.len).toBeGreaterThanOrEqual(HEADER_LEN);
                expect(f.len).toBeLessThanOrEqual(maxFrame);
                expect(f.flags & RESERVED_FLAGS_MASK).toBe(0);
                expect([Flags.REQ, Flags.RESP, Flags.EVENT]).toContain(f.flags & KIND_FLAGS_MASK);
                if ((f.flags & Flags.START) === 0) expect(f.capLen).toBe(0);
                expect(f.cap.byteLength).toBe(f.capLen);
                expect(f.payload.byteLength).toBe(f.len - HEADER_LEN - f.capLen);
                framed += f.len;
              }
              // No byte is lost or invented: what was fed is either framed or held.
              expect(framed + decoder.buffered).toBe(fed);
            } catch (err) {
              failure = err;
              break;
            } finally {
              expect(decoder.buffered).toBeLessThan(maxFrame);
            }
          }
          if (failure === undefined) return;
          expect(failure).toBeInstanceOf(FrameHeaderError);
          const e = failure as FrameHeaderError;
          expect(isReason(e.reason)).toBe(true);
          expect(e.code).toBe(REASONS[e.reason]);
          expect(e.fatal).toBe(true);
          expect(decoder.buffered).toBe(0);
          expect(() => decoder.push(new Uint8Array(HEADER_LEN))).toThrow(e);
        },
      ),
      RUNS,
    );
  });
});

describe("decodeStartPayload", () => {
  it("on arbitrary bytes either returns meta and body or throws OapError bad_meta", () => {
    const withMetaLen = (meta: Uint8Array, body: Uint8Array, lenDelta: number) => {
      const metaLen = Math.max(0, Math.min(0xffff, meta.byteLength + lenDelta));
      const out = Buffer.alloc(2 + meta.byteLength + body.byteLength);
      out.writeUInt16BE(metaLen, 0);
      out.set(meta, 2);
      out.set(body, 2 + meta.byteLength);
      return new Uint8Array(out);
    };
    const metaBytes = fc.oneof(
      fc.json().map((j) => new Uint8Array(Buffer.from(j, "utf8"))),
      fc.string({ unit: "binary" }).map((s) => new Uint8Array(Buffer.from(s, "utf8"))),
      fc.uint8Array({ maxLength: 64 }),
      fc
        .dictionary(fc.string(), fc.jsonValue())
        .map((o) => new Uint8Array(Buffer.from(JSON.stringify(o), "utf8"))),
    );
    const payloadArb = fc.oneof(
      fc.uint8Array({ maxLength: 256 }),
      fc
        .tuple(metaBytes, fc.uint8Array({ maxLength: 32 }), fc.constantFrom(0, 0, 0, -1, 1, 5))
        .map(([meta, body, delta]) => withMetaLen(meta, body, delta)),
    );

    fc.assert(
      fc.property(payloadArb, (payload) => {
        let result: ReturnType<typeof decodeStartPayload>;
        try {
          result = decodeStartPayload(payload);
        } catch (err) {
          expect(err).toBeInstanceOf(OapError);
          expect((err as OapError).reason).toBe("bad_meta");
          expect((err as OapError).code).toBe(400);
          return;
        }
        const metaLen = (payload[0] ?? 0) * 256 + (payload[1] ?? 0);
        expect(typeof result.meta).toBe("object");
        expect(result.meta).not.toBeNull();
        expect(Array.isArray(result.meta)).toBe(false);
        expect(hexOf(result.body)).toBe(hexOf(payload.subarray(2 + metaLen)));
      }),
      RUNS,
    );
  });
});
