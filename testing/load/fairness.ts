/**
 * The arithmetic of the multi-tenant load test, kept pure so it can be checked on its own.
 *
 * Fairness is judged on what each tenant was served **relative to what it was entitled
 * to**, not on raw counts: tenants with different quotas and different demand should not
 * be served the same number of requests, they should each get the same fraction of what
 * they could rightfully have had.
 */

/**
 * Jain's fairness index, J = (Σx)² ÷ (n·Σx²), over non-negative values. It is 1 when every
 * x is equal and 1/n when one tenant has everything; k equal winners among n give k/n. It
 * does not change when every x is multiplied by the same factor. `null` when there is no
 * value or every value is 0 (nobody was served: there is nothing to compare).
 */
export function jainIndex(xs: readonly number[]): number | null {
  let sum = 0;
  let sumSq = 0;
  for (const x of xs) {
    if (!(x >= 0) || !Number.isFinite(x)) throw new RangeError(`jainIndex: ${x} is not a finite x ≥ 0`);
    sum += x;
    sumSq += x * x;
  }
  if (xs.length === 0 || sumSq === 0) return null;
  return (sum * sum) / (xs.length * sumSq);
}

/** A token bucket's terms: `rate` tokens a second, starting full at `burst`. */
export interface BucketTerms {
  rate: number;
  burst: number;
}

/**
 * What a tenant could have been served on one app over a phase of `seconds`: what it asked
 * for, but no more than its bucket allows — the `burst` it starts with (the bucket is full at
 * the start of a phase) plus `rate` × `seconds` refilled. E = min(offered, burst + rate·T).
 */
export function entitlement(offered: number, terms: BucketTerms, seconds: number): number {
  return Math.min(offered, terms.burst + terms.rate * seconds);
}

/**
 * A tenant's served share x = served ÷ entitlement (entitlement summed over its apps).
 * 1 means it got all it was entitled to; it can pass 1 a little, since a node's phase is
 * a few milliseconds longer than the generator's. `null` for an entitlement of 0 (the
 * tenant sent nothing): such tenants are left out of the index.
 */
export function servedShare(served: number, entitled: number): number | null {
  return entitled > 0 ? served / entitled : null;
}

/** Nearest-rank percentile of ascending `sorted` (q in [0, 1]); null when empty. */
export function percentile(sorted: ArrayLike<number>, q: number): number | null {
  if (sorted.length === 0) return null;
  // Nearest rank: the smallest value with at least q of the samples at or below it.
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] as number;
}

/** part ÷ whole, 0 when whole is 0. */
export function share(part: number, whole: number): number {
  return whole > 0 ? part / whole : 0;
}
