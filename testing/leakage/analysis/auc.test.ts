import { describe, expect, it } from "vitest";
import { ascendingOrder, binaryAuc, macroAuc, oneVsRest } from "./auc.js";

describe("binaryAuc", () => {
  it("matches a hand-computed example (3 of 4 positive/negative pairs ordered)", () => {
    // Positives 0.35, 0.8 against negatives 0.1, 0.4: only 0.35 < 0.4 is out of order.
    expect(binaryAuc([0.1, 0.4, 0.35, 0.8], [false, false, true, true])).toBeCloseTo(0.75, 12);
  });

  it("counts a positive/negative tie as one half", () => {
    // Pairs: 0.5>0.2, 0.5=0.5 (½), 0.9>0.2, 0.9>0.5 → 3.5 / 4.
    expect(binaryAuc([0.2, 0.5, 0.5, 0.9], [false, true, false, true])).toBeCloseTo(0.875, 12);
  });

  it("gives 0.5 when every score is equal", () => {
    expect(binaryAuc([3, 3, 3, 3, 3], [true, false, true, false, false])).toBe(0.5);
  });

  it("gives 1 for perfect separation and 0 when inverted", () => {
    expect(binaryAuc([0.1, 0.2, 0.8, 0.9], [false, false, true, true])).toBe(1);
    expect(binaryAuc([0.1, 0.2, 0.8, 0.9], [true, true, false, false])).toBe(0);
  });

  it("is NaN when one class is missing", () => {
    expect(binaryAuc([0.1, 0.2], [true, true])).toBeNaN();
    expect(binaryAuc([], [])).toBeNaN();
  });

  it("treats weights as multiplicities", () => {
    const scores = [0.3, 0.7, 0.5, 0.5, 0.1];
    const positive = [true, true, false, true, false];
    const weights = [2, 0, 1, 3, 1];
    const expanded = scores.flatMap((s, i) => Array<number>(weights[i] as number).fill(s));
    const expandedPositive = positive.flatMap((p, i) => Array<boolean>(weights[i] as number).fill(p));
    expect(binaryAuc(scores, positive, { weights, order: ascendingOrder(scores) })).toBeCloseTo(
      binaryAuc(expanded, expandedPositive),
      12,
    );
  });
});

describe("macroAuc", () => {
  // Per class, by hand: class 0 → 7/8, class 1 → 6/8 (two ties at 0.3), class 2 → 8/8.
  const scores = [
    [0.7, 0.2, 0.1],
    [0.4, 0.3, 0.3],
    [0.3, 0.6, 0.1],
    [0.5, 0.3, 0.2],
    [0.2, 0.3, 0.5],
    [0.1, 0.4, 0.5],
  ];
  const labels = [0, 0, 1, 1, 2, 2];

  it("averages the one-vs-rest AUCs of a 3-class example", () => {
    const result = macroAuc(scores, labels, 3);
    expect(result.perClass[0]).toBeCloseTo(0.875, 12);
    expect(result.perClass[1]).toBeCloseTo(0.75, 12);
    expect(result.perClass[2]).toBeCloseTo(1, 12);
    expect(result.auc).toBeCloseTo(0.875, 12);
  });

  it("equals the binary AUC for two classes with complementary scores", () => {
    const p = [0.1, 0.4, 0.35, 0.8];
    const result = macroAuc(
      p.map((v) => [1 - v, v]),
      [0, 0, 1, 1],
      2,
    );
    expect(result.perClass[0]).toBeCloseTo(0.75, 12);
    expect(result.auc).toBeCloseTo(0.75, 12);
  });

  it("with unit weights matches the unweighted result", () => {
    expect(oneVsRest(scores, labels, 3)(new Uint32Array(6).fill(1)).auc).toBeCloseTo(0.875, 12);
  });

  it("rejects a score row without a score for every class", () => {
    expect(() => macroAuc([[0.5], [0.5]], [0, 1], 2)).toThrow(/missing score/);
  });
});
