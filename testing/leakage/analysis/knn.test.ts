import { describe, expect, it } from "vitest";
import { defaultK, fitStandardizer, knnScores } from "./knn.js";

describe("knnScores", () => {
  const train = [
    [0, 0, 7],
    [0.1, 0.2, 7],
    [0.2, 0.1, 7],
    [10, 10, 7],
    [10.1, 9.9, 7],
    [9.8, 10.2, 7],
  ];
  const labels = [0, 0, 0, 1, 1, 1];

  it("scores the nearby class highest and sums each row to 1", () => {
    const scores = knnScores(
      train,
      labels,
      [
        [0.05, 0.05, 7],
        [9.9, 10, 7],
        [5, 5, 7],
      ],
      2,
      3,
    );
    expect(scores[0]).toEqual([1, 0]);
    expect(scores[1]).toEqual([0, 1]);
    for (const row of scores) expect((row[0] as number) + (row[1] as number)).toBeCloseTo(1, 12);
  });

  it("weights closer neighbours more", () => {
    // k = 6 takes every row; the query sits near class 0, so class 0 still wins the weighted vote.
    const [row] = knnScores(train, labels, [[1, 1, 7]], 2, 6);
    expect(row?.[0]).toBeGreaterThan(0.8);
  });

  it("ignores constant features and handles exact duplicates", () => {
    expect(fitStandardizer(train).inverseStd[2]).toBe(0);
    const [row] = knnScores(train, labels, [[0, 0, 7]], 2, 3);
    expect(row?.every(Number.isFinite)).toBe(true);
  });

  it("defaults k to √n", () => {
    expect(defaultK(1)).toBe(1);
    expect(defaultK(100)).toBe(10);
    expect(defaultK(2000)).toBe(45);
  });

  it("rejects mismatched labels", () => {
    expect(() => knnScores(train, [0, 1], [[0, 0, 7]], 2)).toThrow(/labels/);
    expect(() => knnScores(train, [0, 0, 0, 1, 1, 2], [[0, 0, 7]], 2)).toThrow(/class index/);
  });
});
