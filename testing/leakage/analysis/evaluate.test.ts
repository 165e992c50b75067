import { describe, expect, it } from "vitest";
import { evaluate } from "./evaluate.js";
import { type SyntheticClass, syntheticTraces } from "./synthetic-traces.js";

function traces(classes: SyntheticClass[], tracesPerClass: number, seed: number) {
  return syntheticTraces(classes, { tracesPerClass, tracesPerSession: 3, seed });
}

describe("evaluate", () => {
  it("finds nothing when both classes come from the same distribution", async () => {
    // 300 per class: the null AUC's standard error is ≈ 0.033, so [0.35, 0.65] is ±4.5 SE.
    const same = { responses: [30_000, 5_000] };
    const result = await evaluate(
      traces(
        [
          { label: "a", ...same },
          { label: "b", ...same },
        ],
        300,
        3,
      ),
      { seed: 3 },
    );
    expect(result.classes).toEqual(["a", "b"]);
    expect(result.trainCount + result.testCount).toBe(600);
    for (const learner of [result.knn, result.xgboost]) {
      expect(learner).toBeDefined();
      if (!learner) continue;
      expect(learner.auc).toBeGreaterThan(0.35);
      expect(learner.auc).toBeLessThan(0.65);
      expect(learner.ci[0]).toBeLessThan(0.5);
      expect(learner.ci[1]).toBeGreaterThan(0.5);
    }
  });

  it("separates two classes that differ in total bytes", async () => {
    const result = await evaluate(
      traces(
        [
          { label: "small", responses: [20_000, 4_000] },
          { label: "large", responses: [26_000, 4_000] },
        ],
        60,
        1,
      ),
    );
    expect(result.knn.auc).toBeGreaterThan(0.95);
    expect(result.xgboost?.auc).toBeGreaterThan(0.95);
    expect(Object.keys(result.knn.perClass).sort()).toEqual(["large", "small"]);
  });

  it("separates four classes with the same total bytes but different bursts", async () => {
    const result = await evaluate(
      traces(
        [
          { label: "one", responses: [48_000] },
          { label: "two", responses: [24_000, 24_000] },
          { label: "three", responses: [16_000, 16_000, 16_000] },
          { label: "peak", responses: [8_000, 32_000, 8_000] },
        ],
        60,
        2,
      ),
    );
    expect(result.classes).toEqual(["one", "peak", "three", "two"]);
    expect(result.knn.auc).toBeGreaterThan(0.9);
    expect(result.xgboost?.auc).toBeGreaterThan(0.9);
    expect(result.best === "xgboost" ? result.xgboost?.auc : result.knn.auc).toBe(
      Math.max(result.knn.auc, result.xgboost?.auc ?? 0),
    );
  });

  it("runs k-NN alone when XGBoost is off", async () => {
    const result = await evaluate(
      traces(
        [
          { label: "a", responses: [1_000] },
          { label: "b", responses: [9_000] },
        ],
        20,
        4,
      ),
      { xgboost: false, k: 3, resamples: 100 },
    );
    expect(result.xgboost).toBeUndefined();
    expect(result.best).toBe("knn");
    expect(result.knn.ci[0]).toBeLessThanOrEqual(result.knn.auc);
  });

  it("needs two labels", async () => {
    await expect(evaluate(traces([{ label: "a", responses: [1_000] }], 10, 5))).rejects.toThrow(/two labels/);
  });
});
