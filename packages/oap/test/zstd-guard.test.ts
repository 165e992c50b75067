import { describe, expect, it } from "vitest";
import {
  BoundedInflater,
  compressBody,
  DEFAULT_INFLATE_LIMITS,
  OapError,
  windowLogFor,
} from "../src/internal.js";

const MAGIC = [0x28, 0xb5, 0x2f, 0xfd];

/** A zstd frame of `blocks` RLE blocks of `size` bytes, window 2^windowLog: 4 bytes per block. */
function rleBomb(windowLog: number, size: number, blocks: number): Uint8Array {
  const out = [...MAGIC, 0x00, (windowLog - 10) << 3];
  for (let i = 0; i < blocks; i++) {
    const v = (size << 3) | (1 << 1) | (i === blocks - 1 ? 1 : 0);
    out.push(v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, 0x61);
  }
  return Uint8Array.from(out);
}

function reasonOf(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(OapError);
    return `${(err as OapError).code} ${(err as OapError).reason}`;
  }
  return "ok";
}

function inflateAll(input: Uint8Array, limits = DEFAULT_INFLATE_LIMITS, piece = input.byteLength): Buffer {
  const inflater = new BoundedInflater(limits);
  const out: Uint8Array[] = [];
  for (let i = 0; i < input.byteLength; i += Math.max(piece, 1))
    out.push(...inflater.push(input.subarray(i, i + piece)));
  inflater.finish();
  return Buffer.concat(out);
}

describe("BoundedInflater", () => {
  it("round-trips what compressBody made, whole and fed one byte at a time", () => {
    const body = Buffer.from("the quick brown fox ".repeat(500));
    const packed = compressBody(body);
    expect(inflateAll(packed).equals(body)).toBe(true);
    expect(inflateAll(packed, DEFAULT_INFLATE_LIMITS, 1).equals(body)).toBe(true);
  });

  it("inflates an empty body to an empty body", () => {
    expect(inflateAll(new Uint8Array(0)).byteLength).toBe(0);
  });

  it("stops a 512 MiB RLE bomb of 16 KiB with 413 ratio_cap, having kept no more than the grace plus one scratch", () => {
    const bomb = rleBomb(17, 128 * 1024, 4096);
    expect(bomb.byteLength).toBeLessThan(16 * 1024 + 16);
    const inflater = new BoundedInflater();
    expect(reasonOf(() => inflater.push(bomb))).toBe("413 ratio_cap");
    expect(inflater.decompressedBytes).toBeLessThanOrEqual(
      DEFAULT_INFLATE_LIMITS.ratioGraceBytes + 128 * 1024,
    );
    // Once refused it stays refused.
    expect(reasonOf(() => inflater.push(new Uint8Array([0])))).toBe("413 ratio_cap");
  });

  it("answers decompress_cap when the output cap is reached before the ratio cap, never keeping more than the cap", () => {
    const limits = { maxOutput: 1024 * 1024, maxRatio: 100_000, ratioGraceBytes: 0 };
    const inflater = new BoundedInflater(limits);
    const kept: Uint8Array[] = [];
    const run = () => {
      for (let i = 0; i < 64; i++) kept.push(...inflater.push(rleBomb(17, 128 * 1024, 1)));
    };
    expect(reasonOf(run)).toBe("413 decompress_cap");
    expect(kept.reduce((n, c) => n + c.byteLength, 0)).toBeLessThanOrEqual(limits.maxOutput);
  });

  it("refuses a frame whose window exceeds the output cap before decoding it (decompress_cap)", () => {
    // Single segment, 8-byte content size of 1 TiB: the window is the declared size.
    const declared = Buffer.alloc(8);
    declared.writeBigUInt64LE(1n << 40n);
    const frame = Buffer.concat([
      Buffer.from([...MAGIC, 0xe0]),
      declared,
      Buffer.from([0x01 | (1 << 1) | (8 << 3), 0, 0, 0x61]),
    ]);
    expect(reasonOf(() => inflateAll(frame))).toBe("413 decompress_cap");
    expect(windowLogFor(DEFAULT_INFLATE_LIMITS.maxOutput)).toBe(23);
  });

  it("answers 400 bad_compression for garbage, a truncated frame and bytes after a frame", () => {
    const good = compressBody(Buffer.from("hello"));
    expect(reasonOf(() => inflateAll(Buffer.from("not zstd")))).toBe("400 bad_compression");
    expect(reasonOf(() => inflateAll(good.subarray(0, good.byteLength - 2)))).toBe("400 bad_compression");
    expect(reasonOf(() => inflateAll(Buffer.concat([good, Buffer.from("junk")])))).toBe(
      "400 bad_compression",
    );
  });

  it("accepts a high ratio below the grace (small bodies compress well)", () => {
    expect(inflateAll(rleBomb(16, 60_000, 1)).byteLength).toBe(60_000);
  });
});

describe("BoundedInflater at scratch boundaries", () => {
  it("ends cleanly when the last block exactly fills the scratch buffer", () => {
    const limits = { maxOutput: 8 * 1024 * 1024, maxRatio: 1_000_000, ratioGraceBytes: 0 };
    expect(inflateAll(rleBomb(17, 128 * 1024, 8), limits).byteLength).toBe(1024 * 1024);
  });
});
