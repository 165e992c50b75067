import { describe, expect, it } from "vitest";
import { copyInto, viewOf } from "../src/internal.js";

// The prototype-call forms the hot path uses in place of `bytes.subarray` and `target.set`.

describe("viewOf", () => {
  it("is a plain Uint8Array view over the same memory, like subarray", () => {
    const bytes = new Uint8Array([0, 1, 2, 3, 4, 5, 6, 7]);
    const view = viewOf(bytes, 2, 5);
    expect(Object.getPrototypeOf(view)).toBe(Uint8Array.prototype);
    expect([...view]).toEqual([2, 3, 4]);
    view[0] = 42;
    expect(bytes[2]).toBe(42);
    expect([...viewOf(bytes, 6)]).toEqual([6, 7]);
    expect(viewOf(bytes, 3, 3).length).toBe(0);
  });
});

describe("copyInto", () => {
  it("copies into a Uint8Array or a Buffer at the offset, like set", () => {
    for (const target of [new Uint8Array(6), Buffer.alloc(6)]) {
      copyInto(target, new Uint8Array([9, 8, 7]), 2);
      expect([...target]).toEqual([0, 0, 9, 8, 7, 0]);
      copyInto(target, Buffer.from([1]), 5);
      expect(target[5]).toBe(1);
    }
  });

  it("refuses a copy past the end, as set does", () => {
    expect(() => copyInto(new Uint8Array(2), new Uint8Array(3), 0)).toThrow(RangeError);
  });
});
