import { describe, expect, it } from "vitest";
import { toBytes } from "../src/client/stream.js";

// What a request body becomes on the wire: bytes of strings, Uint8Arrays and Buffers as they are,
// and from JavaScript (the types allow only those) the bytes of any other typed array or DataView.

describe("toBytes", () => {
  it("encodes strings as UTF-8 and passes byte arrays through", () => {
    expect([...toBytes("é")]).toEqual([0xc3, 0xa9]);
    const bytes = new Uint8Array([1, 2]);
    expect(toBytes(bytes)).toBe(bytes);
    const buffer = Buffer.from([3]);
    expect(toBytes(buffer)).toBe(buffer);
  });

  it("sends the bytes of another view, not its elements", () => {
    const words = new Uint16Array([0x0102, 0x0304]).subarray(1);
    const bytes = toBytes(words as unknown as Uint8Array);
    expect(bytes.length).toBe(2);
    expect([...bytes]).toEqual([...new Uint8Array(words.buffer, words.byteOffset, 2)]);
    const view = new DataView(new ArrayBuffer(3));
    expect(toBytes(view as unknown as Uint8Array).length).toBe(3);
  });
});
