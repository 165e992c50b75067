import { randomBytes } from "node:crypto";
import { createBLAKE3 } from "hash-wasm";
import { describe, expect, it } from "vitest";
import { blake3Implementation, createBlake3 } from "../src/blake3.js";

describe("createBlake3", () => {
  it("uses the native hasher on this platform (a prebuilt binary exists for it)", () => {
    expect(blake3Implementation).toBe("native");
  });

  it("gives the same digests as hash-wasm's BLAKE3, fed whole or in uneven pieces", async () => {
    for (const size of [0, 1, 1023, 1024, 1025, 64 * 1024 + 1, 3 * 1024 * 1024 + 7]) {
      const bytes = randomBytes(size);
      const reference = await createBLAKE3();
      reference.update(bytes);
      const whole = await createBlake3();
      whole.update(bytes);
      const pieces = await createBlake3();
      for (let at = 0, step = 1; at < size; at += step, step = step * 3 + 1) {
        pieces.update(bytes.subarray(at, Math.min(size, at + step)));
      }
      const expected = reference.digest("hex");
      expect(whole.digestHex()).toBe(expected);
      expect(pieces.digestHex()).toBe(expected);
    }
  });
});
