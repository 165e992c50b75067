import { describe, expect, it } from "vitest";
import { seededRandom } from "../../support/seeded-random.js";
import { macroAuc } from "./auc.js";
import { bootstrapAucCi } from "./bootstrap.js";

/** Two classes whose scores overlap: class 1 is shifted up by `shift`. */
function overlapping(perClass: number, shift: number, seed: number) {
  const random = seededRandom(seed);
  const scores: number[][] = [];
  const labels: number[] = [];
  for (let c = 0; c < 2; c++) {
    for (let i = 0; i < perClass; i++) {
      const s = random() + random() + random() + c * shift;
      scores.push([-s, s]);
      labels.push(c);
    }
  }
  return { scores, labels };
}

describe("bootstrapAucCi", () => {
  it("is deterministic for a seed", () => {
    const { scores, labels } = overlapping(100, 0.4, 1);
    const a = bootstrapAucCi(scores, labels, 2, { seed: 5 });
    expect(bootstrapAucCi(scores, labels, 2, { seed: 5 })).toEqual(a);
    expect(bootstrapAucCi(scores, labels, 2, { seed: 6 })).not.toEqual(a);
  });

  it("contains the point estimate", () => {
    const { scores, labels } = overlapping(200, 0.4, 2);
    const { auc } = macroAuc(scores, labels, 2);
    const [low, high] = bootstrapAucCi(scores, labels, 2, { seed: 1 });
    expect(low).toBeLessThan(auc);
    expect(high).toBeGreaterThan(auc);
  });

  it("narrows with more samples", () => {
    const small = overlapping(50, 0.4, 3);
    const large = overlapping(1000, 0.4, 3);
    const [smallLow, smallHigh] = bootstrapAucCi(small.scores, small.labels, 2, { seed: 1 });
    const [largeLow, largeHigh] = bootstrapAucCi(large.scores, large.labels, 2, { seed: 1 });
    // Width scales like 1/√n: 20× the data should give well under half the width.
    expect(largeHigh - largeLow).toBeLessThan((smallHigh - smallLow) / 2);
  });

  it("gives [1, 1] for perfectly separated classes (every resample keeps both classes)", () => {
    const scores = [0.1, 0.2, 0.3, 0.7, 0.8, 0.9].map((s) => [1 - s, s]);
    expect(bootstrapAucCi(scores, [0, 0, 0, 1, 1, 1], 2, { resamples: 200 })).toEqual([1, 1]);
  });

  it("resamples whole sessions when given them, widening the interval when a session's traces move together", () => {
    // 30 sessions of 20 traces: how far apart the classes are is a property of the session
    // (its connection's timing), so the traces of a session are not independent draws.
    const random = seededRandom(9);
    const scores: number[][] = [];
    const labels: number[] = [];
    const groups: string[] = [];
    for (let g = 0; g < 30; g++) {
      const separation = random() < 0.5 ? 0 : 1;
      for (let i = 0; i < 20; i++) {
        const c = i % 2;
        const s = c * separation + random();
        scores.push([-s, s]);
        labels.push(c);
        groups.push(`session-${g}`);
      }
    }
    const [itemLow, itemHigh] = bootstrapAucCi(scores, labels, 2, { seed: 1 });
    const [groupLow, groupHigh] = bootstrapAucCi(scores, labels, 2, { seed: 1, groups });
    expect(groupHigh - groupLow).toBeGreaterThan(1.5 * (itemHigh - itemLow));
    expect(() => bootstrapAucCi(scores, labels, 2, { groups: groups.slice(1) })).toThrow(
      /one group per test item/,
    );
  });
});
