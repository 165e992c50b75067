import { createBLAKE3 } from "hash-wasm";
import { afterEach, describe, expect, it } from "vitest";
import "../src/blake3.js";
import { Blake3TreeBuilder, GROUP_BYTES, groupCv } from "../src/verified/blake3-tree.js";
import {
  fullGroupChildrenNative,
  nativeGroupHasherAvailable,
  setNativeGroupHasherEnabled,
} from "../src/verified/native-groups.js";
import { proofFor } from "../src/verified/outboard.js";
import { setBlake3SimdEnabled } from "../src/verified/simd/index.js";
import { verifyGroup } from "../src/verified/verify-group.js";
import { bytesOf } from "./support/seeded-bytes.js";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

/** groupCv with only the paths named on. */
function groupCvBy(path: "native" | "simd" | "js", group: Uint8Array, groupIndex: number, isRoot: boolean) {
  setNativeGroupHasherEnabled(path === "native");
  setBlake3SimdEnabled(path === "simd");
  try {
    return hex(groupCv(group, groupIndex, isRoot));
  } finally {
    setNativeGroupHasherEnabled(true);
    setBlake3SimdEnabled(true);
  }
}

afterEach(() => {
  setNativeGroupHasherEnabled(true);
  setBlake3SimdEnabled(true);
});

describe("the native group hasher (@omnigate/blake3-native)", () => {
  it("is built by the install, with SIMD kernels, and used in Node", () => {
    expect(nativeGroupHasherAvailable()).toBe(true);
  });

  it("gives every full group's CV as the WebAssembly and JS paths do, at many group indices, root or not", () => {
    const bytes = bytesOf(GROUP_BYTES + 5, 7);
    // Counters past 2^32 chunks (group 2^26 on) take the high word too.
    for (const groupIndex of [0, 1, 2, 999, 2 ** 26 - 1, 2 ** 26, 2 ** 26 + 1, 2 ** 40, 2 ** 46]) {
      for (const off of [0, 1, 5]) {
        const group = bytes.subarray(off, off + GROUP_BYTES);
        for (const isRoot of [false, true]) {
          const native = groupCvBy("native", group, groupIndex, isRoot);
          expect(native, `group ${groupIndex} off ${off} root ${isRoot}`).toBe(
            groupCvBy("js", group, groupIndex, isRoot),
          );
          expect(native).toBe(groupCvBy("simd", group, groupIndex, isRoot));
        }
      }
    }
  });

  it("builds roots equal to hash-wasm's BLAKE3, and a flipped byte fails exactly its group", async () => {
    const hasher = await createBLAKE3();
    for (const size of [GROUP_BYTES, GROUP_BYTES + 1, 3 * GROUP_BYTES, 7 * GROUP_BYTES + 1000, 1 << 22]) {
      const data = bytesOf(size, size + 3);
      hasher.init();
      hasher.update(data);
      const { root } = new Blake3TreeBuilder().update(data).finish();
      expect(hex(root), `size ${size}`).toBe(hasher.digest("hex"));
    }
    // Verified reads through the native path: one flipped bit anywhere in group 2 of 5 fails
    // that group's proof, and every other group still verifies.
    const data = bytesOf(5 * GROUP_BYTES, 11);
    const tree = new Blake3TreeBuilder().update(data).finish();
    for (const at of [0, 1023, 40_000, GROUP_BYTES - 1]) {
      const flipped = data.slice();
      const byte = 2 * GROUP_BYTES + at;
      flipped[byte] = (flipped[byte] as number) ^ 1;
      for (let g = 0; g < 5; g++) {
        const bytes = flipped.subarray(g * GROUP_BYTES, (g + 1) * GROUP_BYTES);
        const ok = verifyGroup(tree.root, data.length, g, proofFor(tree.outboard, data.length, g), bytes);
        expect(ok, `flip at ${at}, group ${g}`).toBe(g !== 2);
      }
    }
  });

  it("refuses bad arguments with a RangeError instead of reading out of bounds", () => {
    const out = new Uint32Array(16);
    expect(() => fullGroupChildrenNative(new Uint8Array(GROUP_BYTES - 1), 0, 0, out, 0)).toThrow(RangeError);
    expect(() => fullGroupChildrenNative(new Uint8Array(GROUP_BYTES), 1, 0, out, 0)).toThrow(RangeError);
    expect(() => fullGroupChildrenNative(new Uint8Array(GROUP_BYTES), 0, -1, out, 0)).toThrow(RangeError);
    expect(() => fullGroupChildrenNative(new Uint8Array(GROUP_BYTES), 0, 0, new Uint32Array(15), 0)).toThrow(
      RangeError,
    );
    expect(() => fullGroupChildrenNative(new Uint8Array(GROUP_BYTES), 0, 0.5, out, 0)).toThrow(RangeError);
  });
});
