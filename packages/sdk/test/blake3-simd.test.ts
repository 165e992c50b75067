import { readFileSync } from "node:fs";
import { createBLAKE3 } from "hash-wasm";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  BLAKE3_SIMD_FILE,
  buildBlake3SimdModule,
  OUT_OFFSET,
  renderBlake3SimdFile,
} from "../../../scripts/blake3-simd-module.js";
import { chunkCvs, fullChunkCv, parentOutput } from "../src/verified/blake3-compress.js";
import { Blake3TreeBuilder, GROUP_BYTES, groupCv } from "../src/verified/blake3-tree.js";
import { setNativeGroupHasherEnabled } from "../src/verified/native-groups.js";
import { BLAKE3_X4_WASM_BASE64 } from "../src/verified/simd/blake3-x4-wasm.js";
import {
  blake3SimdAvailable,
  fullChunkCvsSimd,
  fullGroupChildrenSimd,
  setBlake3SimdEnabled,
} from "../src/verified/simd/index.js";
import { bytesOf } from "./support/seeded-bytes.js";

/** The JS path's chunk CVs (SIMD off for the call). */
function jsChunkCvs(bytes: Uint8Array, off: number, len: number, counter: number): Uint32Array {
  const out = new Uint32Array((Math.ceil(len / 1024) || 1) * 8);
  const was = setBlake3SimdEnabled(false);
  try {
    chunkCvs(bytes, off, len, counter, out, 0);
  } finally {
    setBlake3SimdEnabled(was);
  }
  return out;
}

/** The WebAssembly API (the workspace compiles without DOM typings). */
const Wasm = (
  globalThis as unknown as {
    WebAssembly: {
      validate(bytes: Uint8Array): boolean;
      Module: { new (bytes: Uint8Array): object; exports(module: object): unknown[] };
    };
  }
).WebAssembly;

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

// These tests are about the WebAssembly and JS paths: the native one (blake3-native.test.ts) is off.
beforeEach(() => {
  setNativeGroupHasherEnabled(false);
});

afterEach(() => {
  setBlake3SimdEnabled(true);
  setNativeGroupHasherEnabled(true);
});

describe("the committed SIMD module", () => {
  const committed = Buffer.from(BLAKE3_X4_WASM_BASE64, "base64");

  it("is what scripts/build-blake3-simd.ts builds", () => {
    const rebuilt = buildBlake3SimdModule();
    expect(hex(committed) === hex(rebuilt)).toBe(true);
    const file = readFileSync(new URL(`../../../${BLAKE3_SIMD_FILE}`, import.meta.url), "utf8");
    if (file !== renderBlake3SimdFile(rebuilt)) {
      expect.fail(`${BLAKE3_SIMD_FILE} is stale: run \`node --import tsx scripts/build-blake3-simd.ts\``);
    }
  });

  it("is under 4 KiB (synchronous compile on a browser's main thread) and exports memory and hash", () => {
    expect(committed.length).toBeLessThan(4096);
    expect(Wasm.validate(committed)).toBe(true);
    const exports = Wasm.Module.exports(new Wasm.Module(committed));
    expect(exports).toEqual([
      { name: "memory", kind: "memory" },
      { name: "hash", kind: "function" },
    ]);
    expect(OUT_OFFSET).toBe(65536);
  });

  it("is used in Node 20", () => {
    expect(blake3SimdAvailable()).toBe(true);
  });
});

describe("SIMD chunk CVs equal the JS path's", () => {
  const counters = [
    0,
    1,
    3,
    64,
    64 * 12345,
    2 ** 31 - 2,
    2 ** 32 - 1,
    2 ** 32 - 2,
    2 ** 32 - 3,
    2 ** 32,
    2 ** 32 + 64 * 7,
    2 ** 40 + 5,
    2 ** 52 - 130,
    Number.MAX_SAFE_INTEGER - 200,
  ];

  it.each(counters)("full chunks at counter %d, every count 1..67", (counter) => {
    const bytes = bytesOf(67 * 1024, counter % 1000003);
    for (let chunks = 1; chunks <= 67; chunks++) {
      const simd = new Uint32Array(chunks * 8);
      const done = fullChunkCvsSimd(bytes, 0, chunks, counter, simd, 0);
      expect(done).toBeLessThanOrEqual(chunks);
      expect(chunks - done).toBeLessThanOrEqual(2);
      const js = new Uint32Array(chunks * 8);
      for (let c = 0; c < done; c++) {
        const k = counter + c;
        fullChunkCv(
          new Uint32Array(bytes.buffer, c * 1024, 256),
          0,
          k >>> 0,
          Math.floor(k / 2 ** 32) >>> 0,
          js,
          c * 8,
        );
      }
      expect(simd.subarray(0, done * 8)).toEqual(js.subarray(0, done * 8));
    }
  });

  it.each(counters)("chunkCvs at counter %d: any length, unaligned offsets, runs over 64 KiB", (counter) => {
    const bytes = bytesOf(3 * GROUP_BYTES + 4099, (counter % 65521) + 7);
    const lengths = [
      0,
      1,
      1023,
      1024,
      1025,
      2048,
      3072,
      3073,
      4096,
      5000,
      65535,
      GROUP_BYTES,
      GROUP_BYTES + 1,
    ];
    lengths.push(GROUP_BYTES * 2 + 3 * 1024, GROUP_BYTES * 3 + 4097);
    for (const len of lengths) {
      for (const off of [0, 1, 3, 4, 1024]) {
        if (off + len > bytes.length) continue;
        const n = Math.ceil(len / 1024) || 1;
        const simd = new Uint32Array(n * 8 + 8);
        expect(chunkCvs(bytes, off, len, counter, simd, 8)).toBe(n);
        const js = jsChunkCvs(bytes, off, len, counter);
        expect(simd.subarray(8), `len ${len} off ${off}`).toEqual(js);
      }
    }
  });

  it("full groups (chunks and parent levels in SIMD) at many group indices, root or not", () => {
    const bytes = bytesOf(GROUP_BYTES + 3, 99);
    for (const groupIndex of [0, 1, 2, 1000, 2 ** 26 - 1, 2 ** 26, 2 ** 26 + 1, 2 ** 40]) {
      for (const off of [0, 3]) {
        const group = bytes.subarray(off, off + GROUP_BYTES);
        for (const isRoot of [false, true]) {
          const simd = groupCv(group, groupIndex, isRoot);
          setBlake3SimdEnabled(false);
          const js = groupCv(group, groupIndex, isRoot);
          setBlake3SimdEnabled(true);
          expect(hex(simd), `group ${groupIndex} off ${off} root ${isRoot}`).toBe(hex(js));
        }
      }
    }
    const words = new Uint32Array(16);
    expect(fullGroupChildrenSimd(bytes, 0, 0, words, 0)).toBe(true);
    const cv = new Uint32Array(8);
    parentOutput(words, 0, false, cv, 0);
    setBlake3SimdEnabled(false);
    expect(hex(groupCv(bytes.subarray(0, GROUP_BYTES), 0, false))).toBe(
      hex(new Uint8Array(cv.buffer.slice(0))),
    );
  });

  it("roots equal hash-wasm's BLAKE3 with and without SIMD", async () => {
    const hasher = await createBLAKE3();
    for (const size of [0, 1024, 4096, GROUP_BYTES, GROUP_BYTES + 1, 5 * GROUP_BYTES + 3000, 1 << 21]) {
      const data = bytesOf(size, size + 11);
      hasher.init();
      hasher.update(data);
      const expected = hasher.digest("hex");
      for (const simd of [true, false]) {
        setBlake3SimdEnabled(simd);
        const root = new Blake3TreeBuilder().update(data).finish().root;
        expect(hex(root), `size ${size} simd ${simd}`).toBe(expected);
      }
    }
  });
});

describe("the fallback", () => {
  it("hashes nothing in SIMD when turned off, and the results stay right", () => {
    const bytes = bytesOf(GROUP_BYTES, 5);
    const out = new Uint32Array(64 * 8);
    expect(setBlake3SimdEnabled(false)).toBe(true);
    expect(blake3SimdAvailable()).toBe(false);
    expect(fullChunkCvsSimd(bytes, 0, 64, 0, out, 0)).toBe(0);
    expect(fullGroupChildrenSimd(bytes, 0, 0, out, 0)).toBe(false);
    expect(out.every((w) => w === 0)).toBe(true);
    expect(chunkCvs(bytes, 0, GROUP_BYTES, 0, out, 0)).toBe(64);
    expect(setBlake3SimdEnabled(true)).toBe(false);
    const simd = new Uint32Array(64 * 8);
    expect(fullChunkCvsSimd(bytes, 0, 64, 0, simd, 0)).toBe(64);
    expect(simd).toEqual(out);
  });

  it("is used when WebAssembly cannot validate SIMD, or is missing", async () => {
    const realWasm = Wasm;
    const cases: unknown[] = [
      new Proxy(realWasm, { get: (t, k) => (k === "validate" ? () => false : Reflect.get(t, k)) }),
      undefined,
    ];
    try {
      for (const stub of cases) {
        vi.stubGlobal("WebAssembly", stub);
        vi.resetModules();
        const simd = await import("../src/verified/simd/index.js");
        const compress = await import("../src/verified/blake3-compress.js");
        expect(simd.blake3SimdAvailable()).toBe(false);
        const bytes = bytesOf(5 * 1024, 3);
        const out = new Uint32Array(5 * 8);
        expect(simd.fullChunkCvsSimd(bytes, 0, 4, 0, out, 0)).toBe(0);
        expect(compress.chunkCvs(bytes, 0, bytes.length, 64, out, 0)).toBe(5);
        vi.unstubAllGlobals();
        expect(out).toEqual(jsChunkCvs(bytes, 0, bytes.length, 64));
      }
    } finally {
      vi.unstubAllGlobals();
      vi.resetModules();
    }
  });
});
