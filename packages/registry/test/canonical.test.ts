import { describe, expect, it } from "vitest";
import { canonicalJson, entrySigningBytes } from "../src/index.js";
import { appEntry } from "./support/fixture.js";

describe("canonicalJson", () => {
  it("sorts keys at every depth and leaves out whitespace", () => {
    expect(canonicalJson({ b: 1, a: { d: [true, null, "x"], c: "y" } })).toBe(
      '{"a":{"c":"y","d":[true,null,"x"]},"b":1}',
    );
  });

  it("gives the same text whatever order the keys were written in", () => {
    const entry = appEntry();
    const reversed = Object.fromEntries(Object.entries(entry).reverse());
    expect(canonicalJson(reversed)).toBe(canonicalJson(entry));
  });

  it("escapes strings as JSON does", () => {
    expect(canonicalJson({ name: 'a"b\\c\n\u0001é' })).toBe('{"name":"a\\"b\\\\c\\n\\u0001é"}');
  });

  it("refuses values JSON cannot carry exactly", () => {
    expect(() => canonicalJson({ n: 1.5 })).toThrow(/safe integers/);
    expect(() => canonicalJson({ n: Number.NaN })).toThrow(/safe integers/);
    expect(() => canonicalJson({ f: () => 1 })).toThrow(/function/);
  });
});

describe("entrySigningBytes", () => {
  it("is the canonical JSON of the entry without its signature", () => {
    const entry = appEntry();
    const withSignature = { ...entry, signature: "anything" };
    expect(entrySigningBytes(withSignature).toString("utf8")).toBe(canonicalJson(entry));
    expect(entrySigningBytes(withSignature).toString("utf8")).not.toContain("signature");
  });
});
