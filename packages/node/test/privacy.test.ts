import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { chiSquareTest } from "../../../testing/support/chi-square.js";
import { bernoulliExp, discreteLaplacePmf, sampleDiscreteLaplace } from "../src/privacy/discrete-laplace.js";
import { addEpsilon, compareEpsilon, formatEpsilon, parseEpsilon } from "../src/privacy/epsilon.js";
import { BudgetExceededError, PrivacyBudget } from "../src/privacy/privacy-budget.js";
import { releaseCounts } from "../src/privacy/release.js";
import { cryptoUniform, seededUniform } from "../src/privacy/uniform-source.js";

const dir = mkdtempSync(join(tmpdir(), "privacy-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("uniform integers", () => {
  it("replay from their seed, differ between seeds, and refuse bounds they cannot draw exactly", () => {
    const draw = (seed: string) => Array.from({ length: 8 }, () => seededUniform(seed).below(1000));
    const a = seededUniform("seed-a");
    const again = seededUniform("seed-a");
    const first = Array.from({ length: 100 }, () => a.below(1_000_000_007));
    expect(Array.from({ length: 100 }, () => again.below(1_000_000_007))).toEqual(first);
    expect(draw("seed-a")).not.toEqual(draw("seed-b"));
    expect(() => a.below(0)).toThrow(RangeError);
    expect(() => a.below(2 ** 53)).toThrow(RangeError);
    expect(() => a.below(1.5)).toThrow(RangeError);
    expect(a.below(1)).toBe(0);
    const big = Array.from({ length: 1000 }, () => cryptoUniform().below(Number.MAX_SAFE_INTEGER));
    expect(big.every((x) => Number.isSafeInteger(x) && x >= 0)).toBe(true);
  });

  it("are uniform, below a bound that does not divide 2^32 (chi-square, fixed seed)", () => {
    const src = seededUniform("uniform-7");
    const counts = new Array<number>(7).fill(0);
    for (let i = 0; i < 70_000; i++) {
      const bin = src.below(7);
      counts[bin] = (counts[bin] as number) + 1;
    }
    expect(chiSquareTest(counts, new Array(7).fill(1 / 7)).pValue).toBeGreaterThan(0.001);
  });
});

describe("Bernoulli(exp(−γ))", () => {
  it.each([
    [0, 1],
    [1, 2],
    [1, 1],
    [5, 2],
    [7, 3],
  ])("fires with probability exp(−%i/%i) (200,000 draws, fixed seed, within 5 sigma)", (num, den) => {
    const src = seededUniform(`bexp-${num}-${den}`);
    const n = 200_000;
    let hits = 0;
    for (let i = 0; i < n; i++) if (bernoulliExp(src, num, den)) hits++;
    const p = Math.exp(-num / den);
    expect(Math.abs(hits - n * p)).toBeLessThanOrEqual(5 * Math.sqrt(n * p * (1 - p)) + 1e-9);
  });
});

describe("discrete Laplace", () => {
  const scale = { num: 10, den: 3 }; // ε = 0.3, Δ = 1
  const scaleValue = scale.num / scale.den;
  const samples = (() => {
    const src = seededUniform("omnigate dlap chi-square");
    const out = new Int32Array(1_000_000);
    for (let i = 0; i < out.length; i++) out[i] = sampleDiscreteLaplace(src, scale.num, scale.den);
    return out;
  })();
  /** Bins −K…K and two tails, every one expecting at least 5 samples. */
  const binned = (assumedScale: number) => {
    const K = 34;
    const observed = new Array<number>(2 * K + 3).fill(0);
    for (const z of samples) {
      const bin = z < -K ? 0 : z > K ? 2 * K + 2 : z + K + 1;
      observed[bin] = (observed[bin] as number) + 1;
    }
    const inner = Array.from({ length: 2 * K + 1 }, (_, i) => discreteLaplacePmf(i - K, assumedScale));
    const tail = (1 - inner.reduce((a, b) => a + b, 0)) / 2;
    return { observed, probabilities: [tail, ...inner, tail] };
  };

  it("matches its exact distribution: chi-square over 10^6 samples (fixed seed)", () => {
    const { observed, probabilities } = binned(scaleValue);
    const result = chiSquareTest(observed, probabilities);
    expect(result.degreesOfFreedom).toBe(70);
    expect(result.pValue).toBeGreaterThan(0.001);
  });

  it("and the same test tells it from a slightly different scale (the test has power)", () => {
    const { observed, probabilities } = binned(scaleValue * 1.02);
    expect(chiSquareTest(observed, probabilities).pValue).toBeLessThan(1e-6);
  });

  it("is symmetric with mean 0 and variance 2q/(1−q)²", () => {
    let sum = 0;
    let squares = 0;
    for (const z of samples) {
      sum += z;
      squares += z * z;
    }
    const q = Math.exp(-1 / scaleValue);
    const variance = (2 * q) / (1 - q) ** 2;
    const mean = sum / samples.length;
    expect(Math.abs(mean)).toBeLessThan(5 * Math.sqrt(variance / samples.length));
    expect(Math.abs(squares / samples.length - variance) / variance).toBeLessThan(0.02);
  });

  it("refuses scales that are not positive integer ratios", () => {
    const src = seededUniform("x");
    expect(() => sampleDiscreteLaplace(src, 0, 1)).toThrow(RangeError);
    expect(() => sampleDiscreteLaplace(src, 1.5, 1)).toThrow(RangeError);
    expect(() => bernoulliExp(src, -1, 1)).toThrow(RangeError);
  });
});

describe("privacy budget", () => {
  it("spends ε exactly, refuses the release that would pass the total, and remembers across a restart", () => {
    const file = join(dir, "budget-1.jsonl");
    const budget = new PrivacyBudget(file, parseEpsilon("1"));
    for (const e of ["0.3", "0.3", "0.3"]) budget.spend("usage per app, hour 1", parseEpsilon(e));
    expect(() => budget.spend("one too many", parseEpsilon("0.2"))).toThrow(BudgetExceededError);
    budget.spend("the last tenth", parseEpsilon("0.1"));
    expect(formatEpsilon(budget.spent)).toBe("1");
    expect(() => budget.spend("past it", parseEpsilon("0.000000001"))).toThrow(BudgetExceededError);
    expect(readFileSync(file, "utf8").trim().split("\n")).toHaveLength(4);
    const reopened = new PrivacyBudget(file, parseEpsilon("1"));
    expect(compareEpsilon(reopened.spent, parseEpsilon("1"))).toBe(0);
    expect(() => reopened.spend("after a restart", parseEpsilon("0.1"))).toThrow(BudgetExceededError);
  });

  it("counts a torn ledger line as the whole budget spent", () => {
    const file = join(dir, "budget-2.jsonl");
    writeFileSync(file, '{"at":"2026-12-06T00:00:00Z","label":"x","epsilon":"1/10"}\n{"at":"2026-12-06T00:0');
    const budget = new PrivacyBudget(file, parseEpsilon("5"));
    expect(compareEpsilon(budget.spent, addEpsilon(parseEpsilon("5"), parseEpsilon("0.1")))).toBe(0);
    expect(() => budget.spend("any", parseEpsilon("0.1"))).toThrow(BudgetExceededError);
  });

  it("parses ε exactly and refuses what is not a plain decimal", () => {
    expect(parseEpsilon("0.1")).toEqual({ num: 1n, den: 10n });
    expect(parseEpsilon("2.50")).toEqual({ num: 5n, den: 2n });
    for (const bad of ["-1", "1e-3", "NaN", "", "0x10", "1.2.3"])
      expect(() => parseEpsilon(bad)).toThrow(RangeError);
  });
});

describe("noisy release", () => {
  it("adds noise to every count, keeps the keys, and draws nothing when the budget refuses", () => {
    const budget = new PrivacyBudget(join(dir, "budget-3.jsonl"), parseEpsilon("1"));
    const counts = new Map([
      ["0x0101 10:00", 1200],
      ["0x0201 10:00", 35],
    ]);
    const random = seededUniform("release");
    const noisy = releaseCounts(counts, {
      label: "hour 10",
      epsilon: parseEpsilon("0.5"),
      sensitivity: 1,
      budget,
      random,
    });
    expect([...noisy.keys()]).toEqual([...counts.keys()]);
    expect([...noisy.values()].every(Number.isInteger)).toBe(true);
    expect(() =>
      releaseCounts(counts, {
        label: "hour 11",
        epsilon: parseEpsilon("0.6"),
        sensitivity: 1,
        budget,
        random,
      }),
    ).toThrow(BudgetExceededError);
    expect(formatEpsilon(budget.spent)).toBe("1/2");
  });
});
