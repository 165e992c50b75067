/**
 * Quota classes and the tenants in them: what share of the tenants each class holds, each
 * class's buckets per app, and what each of its tenants offers.
 */
import type { BucketTerms } from "../fairness.js";
import { BACKEND_APP, ECHO_APP } from "./kinds.js";

/** A quota class: its share of the tenants, its quota per app, and what each of its tenants offers. */
export interface TenantClass {
  name: string;
  /** Fraction of the tenants in this class (the last class takes the rounding remainder). */
  fraction: number;
  /** Echo (0x0101) bucket; the backend app's bucket is `backendQuotaScale` of it. */
  quota: BucketTerms;
  /** Mean requests per second each tenant starts (Poisson), across its mix. */
  offeredPerSec: number;
  /** Offers more than its quota on purpose (the ones that should get the 429s). */
  heavy: boolean;
}

/**
 * Four classes: most tenants small, a quarter medium, a few large, and 1 % "heavy" tenants
 * on the medium quota offering ten times it. Every other class offers half its quota rate.
 * Bursts leave room for Poisson clumping: a bucket of burst 2 at twice the mean rate refuses
 * about 8 % of Poisson arrivals, burst 5 about 0.1 % (simulated), so "compliant" tenants
 * see few 429s, not none.
 */
export const DEFAULT_CLASSES: TenantClass[] = [
  { name: "small", fraction: 0.7, quota: { rate: 1, burst: 5 }, offeredPerSec: 0.5, heavy: false },
  { name: "medium", fraction: 0.24, quota: { rate: 4, burst: 8 }, offeredPerSec: 2, heavy: false },
  { name: "large", fraction: 0.05, quota: { rate: 20, burst: 40 }, offeredPerSec: 10, heavy: false },
  { name: "heavy", fraction: 0.01, quota: { rate: 4, burst: 8 }, offeredPerSec: 40, heavy: true },
];

/** The backend app's bucket is this fraction of a class's echo bucket (burst at least 3). */
const BACKEND_QUOTA_SCALE = 0.5;
const BACKEND_MIN_BURST = 3;

export interface Tenant {
  id: bigint;
  cls: TenantClass;
  /** Bucket per app id. */
  quota: Map<number, BucketTerms>;
}

/** Tenants 1..n, classes assigned in interleaved order so every id range holds every class. */
export function assignTenants(n: number, classes: TenantClass[]): Tenant[] {
  const counts = classes.map((c) => Math.floor(c.fraction * n));
  counts[counts.length - 1] = n - counts.slice(0, -1).reduce((a, b) => a + b, 0);
  // Spread: tenant i goes to the class furthest behind its target so far.
  const given = classes.map(() => 0);
  const out: Tenant[] = [];
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bestLag = Number.NEGATIVE_INFINITY;
    classes.forEach((_, c) => {
      const lag = ((counts[c] as number) * (i + 1)) / n - (given[c] as number);
      if ((given[c] as number) < (counts[c] as number) && lag > bestLag) {
        bestLag = lag;
        best = c;
      }
    });
    given[best] = (given[best] as number) + 1;
    const cls = classes[best] as TenantClass;
    out.push({ id: BigInt(i + 1), cls, quota: quotaOf(cls) });
  }
  return out;
}

/** A class's bucket per app: its echo quota, and the backend app's scaled from it. */
export function quotaOf(cls: TenantClass): Map<number, BucketTerms> {
  return new Map([
    [ECHO_APP, cls.quota],
    [
      BACKEND_APP,
      {
        rate: cls.quota.rate * BACKEND_QUOTA_SCALE,
        burst: Math.max(BACKEND_MIN_BURST, cls.quota.burst * BACKEND_QUOTA_SCALE),
      },
    ],
  ]);
}

/** Mean requests per second all tenants offer together at full load. */
export function offeredPerSec(tenants: Tenant[]): number {
  return tenants.reduce((s, t) => s + t.cls.offeredPerSec, 0);
}

/** The longest time any tenant's bucket takes to refill from empty (burst ÷ rate), in ms. */
export function longestRefillMs(tenants: Tenant[]): number {
  return (
    Math.max(...tenants.map((t) => Math.max(...[...t.quota.values()].map((q) => q.burst / q.rate)))) * 1000
  );
}
