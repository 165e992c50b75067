/**
 * The exact discrete Laplace distribution on the integers, P(z) ∝ exp(−|z|/scale), sampled
 * with integer arithmetic only (Canonne, Kamath and Steinke 2020, "The Discrete Gaussian for
 * Differential Privacy", Algorithms 1 and 2). Floating-point Laplace noise leaks through the
 * gaps in the doubles it can produce (Mironov 2012); this sampler never leaves the integers.
 * Adding it to a count with sensitivity Δ at scale Δ/ε gives ε-differential privacy.
 *
 * Scales are rationals `num/den` (ε = 1/10 and Δ = 1 is scale 10/1).
 */
import type { UniformSource } from "./uniform-source.js";

/** A Bernoulli(num/den) draw, 0 ≤ num ≤ den. */
function bernoulli(src: UniformSource, num: number, den: number): boolean {
  return src.below(den) < num;
}

/** A Bernoulli(exp(−num/den)) draw, for integers num ≥ 0, den ≥ 1 (CKS20 Algorithm 1). */
export function bernoulliExp(src: UniformSource, num: number, den: number): boolean {
  if (!Number.isSafeInteger(num) || !Number.isSafeInteger(den) || num < 0 || den < 1) {
    throw new RangeError(`bernoulliExp(${num}/${den}): integers num ≥ 0 and den ≥ 1 expected`);
  }
  if (num <= den) {
    // exp(−γ) for γ ≤ 1: the parity of the first k where Bernoulli(γ/k) fails.
    let k = 1;
    while (bernoulli(src, num, den * k)) k++;
    return k % 2 === 1;
  }
  // exp(−γ) = exp(−1)^⌊γ⌋ · exp(−(γ − ⌊γ⌋)).
  for (let i = Math.floor(num / den); i > 0; i--) {
    if (!bernoulliExp(src, 1, 1)) return false;
  }
  return bernoulliExp(src, num % den, den);
}

/** One sample of the discrete Laplace distribution with scale num/den (CKS20 Algorithm 2). */
export function sampleDiscreteLaplace(src: UniformSource, num: number, den: number): number {
  if (!Number.isSafeInteger(num) || !Number.isSafeInteger(den) || num < 1 || den < 1) {
    throw new RangeError(`discrete Laplace scale ${num}/${den}: positive integers expected`);
  }
  // scale = t/s in the paper's terms.
  const t = num;
  const s = den;
  for (;;) {
    const u = src.below(t);
    if (!bernoulliExp(src, u, t)) continue;
    let v = 0;
    while (bernoulliExp(src, 1, 1)) v++;
    const x = u + t * v;
    const y = Math.floor(x / s);
    const negative = src.below(2) === 1;
    if (negative && y === 0) continue;
    return negative ? -y : y;
  }
}

/** The probability of `z` under the discrete Laplace distribution of `scale` (for tests and docs). */
export function discreteLaplacePmf(z: number, scale: number): number {
  const q = Math.exp(-1 / scale);
  return ((1 - q) / (1 + q)) * q ** Math.abs(z);
}
