import { describe, expect, it } from "vitest";
import { xgboostScores } from "./xgboost.js";

// Two well-separated blobs per class along feature c.
function blobs(classCount: number, perClass: number) {
  const rows: number[][] = [];
  const labels: number[] = [];
  for (let c = 0; c < classCount; c++) {
    for (let i = 0; i < perClass; i++) {
      rows.push(
        Array.from({ length: classCount }, (_, j) => (j === c ? 5 : 0) + ((i * 7 + j * 3) % 10) / 10),
      );
      labels.push(c);
    }
  }
  return { rows, labels };
}

describe("xgboostScores (child process)", () => {
  it("rejects a label count that does not match the rows, and this process carries on", async () => {
    const { rows, labels } = blobs(3, 10);
    await expect(xgboostScores(rows, labels.slice(0, 5), rows, 3)).rejects.toThrow(
      /label count 5 does not match training row count 30/,
    );
    // This process survived and can still train: one probability row per test row.
    const probabilities = await xgboostScores(rows, labels, rows, 3, { rounds: 20 });
    expect(probabilities).toHaveLength(rows.length);
    probabilities.forEach((row, i) => {
      expect(row).toHaveLength(3);
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      expect(row.indexOf(Math.max(...row))).toBe(labels[i]);
    });
  });

  it("turns an error inside the wasm into a rejection carrying XGBoost's reason", async () => {
    const { rows, labels } = blobs(2, 10);
    await expect(xgboostScores(rows, labels, rows, 2, { extra: { objective: "nonsense" } })).rejects.toThrow(
      /Unknown objective function nonsense/,
    );
  });

  it("kills a child that does not answer in time", async () => {
    const { rows, labels } = blobs(2, 10);
    await expect(xgboostScores(rows, labels, rows, 2, { timeoutMs: 1 })).rejects.toThrow(
      /did not answer within 1 ms/,
    );
  });
});
