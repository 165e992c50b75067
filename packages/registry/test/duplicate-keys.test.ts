import { describe, expect, it } from "vitest";
import { findDuplicateKeys } from "../src/index.js";

describe("findDuplicateKeys", () => {
  it("finds a repeated key at any depth, by JSON pointer", () => {
    const text =
      '{"entries":[{"id":"0x1001","name":"a"},{"id":"0x1002","name":"b","id":"0x1003"}],"x":{"y":{"z":1,"z":2}}}';
    expect(findDuplicateKeys(text)).toEqual(["/entries/1/id", "/x/y/z"]);
  });

  it("compares keys after unescaping, and is not fooled by quotes or brackets inside strings", () => {
    expect(findDuplicateKeys('{"ab":1,"a\\u0062":2}')).toEqual(["/ab"]);
    expect(findDuplicateKeys('{"a":"}\\"{,[","b":["{\\"a\\":1}"],"c":null}')).toEqual([]);
    expect(findDuplicateKeys('{"a/b":1,"a/b":true}')).toEqual(["/a~1b"]);
  });

  it("finds none in a document without repeats, whatever its layout", () => {
    expect(
      findDuplicateKeys('{ "a" : [ 1 , -2.5e3 , true , false , null , { } , [ ] ] ,\n "b" : { "a" : 1 } }'),
    ).toEqual([]);
  });

  it("stops at a nesting depth no registry reaches instead of exhausting the stack", () => {
    const deep = `${"[".repeat(200_000)}${"]".repeat(200_000)}`;
    expect(findDuplicateKeys(deep)).toEqual([]);
  });
});
