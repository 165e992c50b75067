import { describe, expect, it } from "vitest";
import { entitlement, jainIndex, percentile, servedShare, share } from "./fairness.js";

describe("Jain's fairness index", () => {
  it("is 1 for equal shares, 1/n when one tenant has everything, k/n for k equal winners", () => {
    expect(jainIndex([0.7, 0.7, 0.7, 0.7])).toBeCloseTo(1, 12);
    expect(jainIndex([5, 0, 0, 0, 0])).toBeCloseTo(1 / 5, 12);
    expect(jainIndex([1, 1, 1, 0, 0, 0, 0, 0, 0, 0])).toBeCloseTo(3 / 10, 12);
  });

  it("matches (Σx)² / (n·Σx²) on an uneven vector and ignores a common scale", () => {
    // (1 + 2 + 3)² / (3 · (1 + 4 + 9)) = 36 / 42
    expect(jainIndex([1, 2, 3])).toBeCloseTo(36 / 42, 12);
    expect(jainIndex([10, 20, 30])).toBeCloseTo(36 / 42, 12);
  });

  it("is undefined with no values or none served, and refuses negative or non-finite ones", () => {
    expect(jainIndex([])).toBeNull();
    expect(jainIndex([0, 0])).toBeNull();
    expect(() => jainIndex([1, -1])).toThrow(RangeError);
    expect(() => jainIndex([1, Number.NaN])).toThrow(RangeError);
    expect(() => jainIndex([Number.POSITIVE_INFINITY])).toThrow(RangeError);
  });
});

describe("entitlement and served share", () => {
  it("caps what a tenant asked for at its bucket's burst plus refill over the phase", () => {
    // Within quota: entitled to everything it sent.
    expect(entitlement(25, { rate: 1, burst: 2 }, 60)).toBe(25);
    // Ten times its rate of 4/s for 60 s: entitled to 8 + 4·60 = 248 of 2400.
    expect(entitlement(2400, { rate: 4, burst: 8 }, 60)).toBe(248);
  });

  it("divides served by entitlement and leaves out tenants entitled to nothing", () => {
    expect(servedShare(124, 248)).toBe(0.5);
    expect(servedShare(0, 0)).toBeNull();
  });
});

describe("percentile and share", () => {
  it("takes the nearest rank", () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(sorted, 0.5)).toBe(50);
    expect(percentile(sorted, 0.99)).toBe(99);
    expect(percentile(sorted, 1)).toBe(100);
    expect(percentile(sorted, 0)).toBe(1);
    expect(percentile([7], 0.99)).toBe(7);
    expect(percentile([], 0.5)).toBeNull();
  });

  it("is 0 of nothing", () => {
    expect(share(1, 4)).toBe(0.25);
    expect(share(0, 0)).toBe(0);
  });
});
