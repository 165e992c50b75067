import { describe, expect, it } from "vitest";
import { CorrIdMap } from "../src/internal.js";

/** A deterministic pseudo-random sequence. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe("CorrIdMap", () => {
  it("behaves like a Map under random inserts, updates and deletes", () => {
    const next = random(7);
    const map = new CorrIdMap<string>(8);
    const model = new Map<number, string>();
    for (let step = 0; step < 20_000; step++) {
      // Small key ranges make long probe runs and wrap-around likely; some keys are large.
      const key = next() < 0.1 ? 2 ** 40 + Math.floor(next() * 64) : Math.floor(next() * 300);
      const op = next();
      if (op < 0.5) {
        map.set(key, `v${step}`);
        model.set(key, `v${step}`);
      } else if (op < 0.85) {
        expect(map.delete(key)).toBe(model.delete(key));
      } else {
        expect(map.get(key)).toBe(model.get(key));
      }
      expect(map.size).toBe(model.size);
    }
    for (const [key, value] of model) expect(map.get(key)).toBe(value);
    expect(map.valuesArray().sort()).toEqual([...model.values()].sort());
  });

  it("keeps a long-lived key reachable while ids cycle through the table", () => {
    const map = new CorrIdMap<number>(8);
    map.set(1, 1);
    for (let id = 2; id < 10_000; id++) {
      map.set(id, id);
      if (id > 5) map.delete(id - 4);
      expect(map.get(1)).toBe(1);
    }
    expect(map.size).toBe(5);
  });

  it("takes key 0 and clears", () => {
    const map = new CorrIdMap<string>();
    map.set(0, "zero");
    expect(map.get(0)).toBe("zero");
    map.clear();
    expect(map.get(0)).toBeUndefined();
    expect(map.size).toBe(0);
  });
});
