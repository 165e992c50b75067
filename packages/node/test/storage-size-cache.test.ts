import { describe, expect, it } from "vitest";
import { SizeCache } from "../src/storage/size-cache.js";

describe("SizeCache", () => {
  it("remembers sizes and misses until forgotten, dropping the least recently used past its bound", () => {
    const cache = new SizeCache(2);
    expect(cache.get("t1", "a")).toBe("unknown");
    cache.set("t1", "a", 10);
    cache.set("t1", "b", undefined);
    expect(cache.get("t1", "a")).toBe(10);
    expect(cache.get("t1", "b")).toBeUndefined();
    expect(cache.get("t2", "a")).toBe("unknown");
    // "a" was used after "b", so "b" goes when "c" comes.
    cache.get("t1", "a");
    cache.set("t1", "c", 30);
    expect(cache.get("t1", "b")).toBe("unknown");
    expect(cache.get("t1", "a")).toBe(10);
    cache.forget("t1", "a");
    expect(cache.get("t1", "a")).toBe("unknown");
    expect(cache.get("t1", "c")).toBe(30);
  });
});
