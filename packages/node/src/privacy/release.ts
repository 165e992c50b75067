/**
 * A differentially private release of counts: each count plus discrete Laplace noise of scale
 * Δ/ε, with ε taken from the budget first. Sensitivity Δ bounds how much one tenant can move
 * all the counts together (their L1 distance, e.g. a cap on a tenant's requests across every
 * cell): then the whole release is ε-DP and spends ε once, whatever the number of cells. A
 * bound on each count alone is not enough when one tenant's requests fall in several cells.
 */
import { sampleDiscreteLaplace } from "./discrete-laplace.js";
import type { Epsilon } from "./epsilon.js";
import type { PrivacyBudget } from "./privacy-budget.js";
import type { UniformSource } from "./uniform-source.js";

/** Scales must fit the samplers' exact integer range. */
const MAX_SCALE_PART = 2 ** 40;

export function releaseCounts<K>(
  counts: ReadonlyMap<K, number>,
  options: {
    label: string;
    epsilon: Epsilon;
    sensitivity: number;
    budget: PrivacyBudget;
    random: UniformSource;
  },
): Map<K, number> {
  const { epsilon, sensitivity } = options;
  const scale = noiseScale(epsilon, sensitivity);
  options.budget.spend(options.label, epsilon);
  const noisy = new Map<K, number>();
  for (const [key, count] of counts) {
    noisy.set(key, count + sampleDiscreteLaplace(options.random, scale.num, scale.den));
  }
  return noisy;
}

/** The noise scale Δ/ε as integers num/den, or a RangeError when the sampler cannot draw it exactly. */
export function noiseScale(epsilon: Epsilon, sensitivity: number): { num: number; den: number } {
  if (!Number.isSafeInteger(sensitivity) || sensitivity < 1)
    throw new RangeError("sensitivity is a positive integer");
  // scale = Δ/ε = Δ·den/num
  const num = BigInt(sensitivity) * epsilon.den;
  const den = epsilon.num;
  if (den <= 0n || num > BigInt(MAX_SCALE_PART) || den > BigInt(MAX_SCALE_PART)) {
    throw new RangeError("ε and sensitivity give a noise scale out of range");
  }
  return { num: Number(num), den: Number(den) };
}
