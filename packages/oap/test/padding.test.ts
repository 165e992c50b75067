import { describe, expect, it } from "vitest";
import {
  bucketLength,
  decodeFrame,
  decodeStartPayload,
  encodeFrame,
  encodePadFrame,
  Flags,
  isPadFrame,
  PAD_FRAME_MIN,
  paddedBurstLength,
  padFrameLengths,
  padmeBucket,
  pow2Bucket,
} from "../src/index.js";

describe("padmeBucket", () => {
  it("matches hand-computed Padmé sizes", () => {
    // L → E = ⌊log2 L⌋, S = ⌊log2 E⌋ + 1, rounded up to a multiple of 2^(E−S).
    const cases: Array<[number, number]> = [
      [0, 0],
      [1, 1],
      [2, 2], // E 1, S 1: unit 1
      [3, 3],
      [9, 10], // E 3, S 2: unit 2
      [17, 18], // E 4, S 3: unit 2
      [100, 104], // E 6, S 3: unit 8
      [129, 144], // E 7, S 3: unit 16 (the worst overhead, 11.6 %)
      [1000, 1024], // E 9, S 4: unit 32
      [1234, 1280], // E 10, S 4: unit 64
      [4097, 4352], // E 12, S 4: unit 256
      [65_537, 67_584], // E 16, S 5: unit 2048
      [1_048_577, 1_081_344], // E 20, S 5: unit 32768
    ];
    for (const [length, bucket] of cases) expect(padmeBucket(length), `padme(${length})`).toBe(bucket);
  });

  it("never shrinks, is idempotent and stays within 12 % overhead", () => {
    let worst = 0;
    let shrunk = 0;
    for (let length = 2; length <= 1 << 20; length++) {
      const bucket = padmeBucket(length);
      if (bucket < length) shrunk++;
      worst = Math.max(worst, (bucket - length) / length);
    }
    expect(shrunk).toBe(0);
    expect(worst).toBeLessThanOrEqual(0.12);
    for (const length of [2, 9, 129, 1000, 4097, 70_000, 1_048_577, 2 ** 40 + 3]) {
      expect(padmeBucket(padmeBucket(length))).toBe(padmeBucket(length));
    }
  });

  it("stays exact above 2^31", () => {
    // E = 33, S = 6: unit 2^27.
    expect(padmeBucket(2 ** 33 + 1)).toBe(2 ** 33 + 2 ** 27);
  });
});

describe("pow2Bucket", () => {
  it("is the smallest power of two ≥ L, at least 64", () => {
    const cases: Array<[number, number]> = [
      [0, 64],
      [1, 64],
      [64, 64],
      [65, 128],
      [1000, 1024],
      [1024, 1024],
      [16_385, 32_768],
      [1_048_577, 2_097_152],
    ];
    for (const [length, bucket] of cases) expect(pow2Bucket(length), `pow2(${length})`).toBe(bucket);
    expect(bucketLength(1000, "off")).toBe(1000);
  });
});

describe("paddedBurstLength", () => {
  it("leaves room for a whole PAD frame, or none", () => {
    // padme(9) = 10 leaves a 1-byte gap: the burst goes to padme(9 + 55) = 64.
    expect(paddedBurstLength(9, "padme")).toBe(64);
    // pow2(100) = 128 leaves 28: to pow2(155) = 256.
    expect(paddedBurstLength(100, "pow2")).toBe(256);
    // A bucket size needs no padding at all.
    expect(paddedBurstLength(1024, "pow2")).toBe(1024);
    expect(paddedBurstLength(1000, "padme")).toBe(1088);
    expect(paddedBurstLength(1000, "off")).toBe(1000);
    for (let length = 38; length < 20_000; length += 7) {
      for (const scheme of ["padme", "pow2"] as const) {
        const target = paddedBurstLength(length, scheme);
        const gap = target - length;
        expect(gap === 0 || gap >= PAD_FRAME_MIN, `${scheme} ${length}`).toBe(true);
        expect(bucketLength(target, scheme)).toBe(target);
      }
    }
  });

  it("gives a cover burst at least its drawn size, bucketed", () => {
    expect(paddedBurstLength(0, "pow2", 300)).toBe(512);
    expect(paddedBurstLength(0, "padme", 55)).toBe(56);
    expect(paddedBurstLength(0, "off", 300)).toBe(300);
    expect(paddedBurstLength(200, "pow2", 60)).toBe(512);
  });
});

describe("PAD frames", () => {
  it('the smallest is 55 bytes: header, meta_len 15 and {"event":"pad"}', () => {
    const frame = encodePadFrame(PAD_FRAME_MIN);
    expect(PAD_FRAME_MIN).toBe(55);
    const header = [
      "00000037", // len 55
      "0001", // ver
      "001c", // EVENT | START | END
      "0000", // code
      "0000", // app_proto_id 0
      "00".repeat(16), // tenant_id 0
      "0000", // cap_len
      "00".repeat(8), // corr_id 0
    ].join("");
    const meta = Buffer.from('{"event":"pad"}').toString("hex");
    expect(frame.toString("hex")).toBe(`${header}000f${meta}`);
    const decoded = decodeFrame(frame);
    expect(isPadFrame(decoded)).toBe(true);
    const { meta: padMeta, body } = decodeStartPayload(decoded.payload);
    expect(padMeta).toEqual({ event: "pad" });
    expect(body.byteLength).toBe(0);
  });

  it("carries zero filler up to the length asked for", () => {
    const frame = decodeFrame(encodePadFrame(1000));
    expect(frame.len).toBe(1000);
    expect(isPadFrame(frame)).toBe(true);
    expect(decodeStartPayload(frame.payload).body.every((b) => b === 0)).toBe(true);
    expect(() => encodePadFrame(54)).toThrow(RangeError);
  });

  it("recognises only the exact PAD frame", () => {
    const pad = (over: Partial<Parameters<typeof encodeFrame>[0]>, meta = '{"event":"pad"}') =>
      decodeFrame(
        encodeFrame({
          flags: Flags.EVENT | Flags.START | Flags.END,
          appProtoId: 0,
          corrId: 0n,
          payload: Buffer.concat([
            Buffer.from([0, Buffer.byteLength(meta)]),
            Buffer.from(meta),
            Buffer.alloc(3),
          ]),
          ...over,
        }),
      );
    expect(isPadFrame(pad({}))).toBe(true);
    expect(isPadFrame(pad({ corrId: 1n }))).toBe(false);
    expect(isPadFrame(pad({ tenantId: 1n }))).toBe(false);
    expect(isPadFrame(pad({ appProtoId: 0x0101 }))).toBe(false);
    expect(isPadFrame(pad({ flags: Flags.EVENT | Flags.START | Flags.END | Flags.ACK_REQ }))).toBe(false);
    expect(isPadFrame(pad({ cap: Buffer.from("x") }))).toBe(false);
    expect(isPadFrame(pad({}, '{"event":"revoked"}'))).toBe(false);
    expect(isPadFrame(pad({}, '{"event": "pad"}'))).toBe(false);
  });

  it("splits padding longer than max_frame into frames of 55..max_frame bytes", () => {
    expect(padFrameLengths(0, 4096)).toEqual([]);
    expect(padFrameLengths(55, 4096)).toEqual([55]);
    expect(padFrameLengths(4096, 4096)).toEqual([4096]);
    expect(padFrameLengths(8192, 4096)).toEqual([4096, 4096]);
    // 4096 + 10 would leave a 10-byte frame: the first gives up 45 bytes instead.
    expect(padFrameLengths(4106, 4096)).toEqual([4051, 55]);
    for (let total = 55; total < 20_000; total += 13) {
      const lengths = padFrameLengths(total, 4096);
      expect(lengths.reduce((a, b) => a + b, 0)).toBe(total);
      for (const length of lengths) expect(length >= 55 && length <= 4096).toBe(true);
    }
    expect(() => padFrameLengths(20, 4096)).toThrow(RangeError);
  });
});
