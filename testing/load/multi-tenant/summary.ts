/**
 * The report's JSON shapes (per tenant, per class, the run's summary) and the arithmetic
 * that fills them: totals of counts, latency percentiles, ratios and rounding.
 */
import { type BucketTerms, jainIndex, percentile, share } from "../fairness.js";
import { addCounts, type Counts, emptyCounts, type OutcomeFields, outcomeFields } from "./counts.js";

export interface TenantResult extends OutcomeFields {
  load: "tenant";
  tenant: string;
  class: string;
  heavy: boolean;
  offered_per_sec: number;
  /** Σ over apps of min(sent, burst + rate·T). */
  entitlement: number;
  /** served ÷ entitlement (null when the tenant sent nothing). */
  x: number | null;
}

export interface ClassResult extends OutcomeFields {
  load: "tenant-class";
  class: string;
  tenants: number;
  heavy: boolean;
  quota: { echo: BucketTerms; backend: BucketTerms };
  offered_per_sec_each: number;
  unsettled: number;
  share_429: number;
  share_503: number;
  /** Jain's index over this class's tenants' x. */
  jain: number | null;
  x_mean: number | null;
  x_min: number | null;
  x_max: number | null;
}

/** A phase's totals over some tenants: a class result without the class. */
export type Totals = Omit<
  ClassResult,
  "load" | "class" | "tenants" | "heavy" | "quota" | "offered_per_sec_each"
>;

export interface LatencySummary {
  n: number;
  p50: number | null;
  p99: number | null;
}

export interface KindLatency {
  kind: string;
  hold_ms: number;
  unloaded: LatencySummary;
  loaded: LatencySummary;
  /** loaded ÷ unloaded. */
  p50_ratio: number | null;
  p99_ratio: number | null;
}

/**
 * Where the time went in the loaded phase: CPU seconds per second of the node process and
 * of the backend process (1 = one core busy), and this process's (the generator's)
 * event-loop delay p99/max (ms): a large one means latencies include the generator's own lag.
 */
export interface LoadedPhaseStats {
  node_cpu: number | null;
  backend_cpu: number | null;
  generator_loop_delay_ms: { p99: number; max: number };
}

export interface MultiTenantSummary {
  load: "summary";
  tenants: number;
  seconds: { warmup: number; unloaded: number; loaded: number };
  node_max_inflight: number;
  /** Offered rate of the loaded phase, all tenants (req/s), and after quotas (what each bucket lets through). */
  offered_per_sec: number;
  offered_within_quota_per_sec: number;
  /** Open streams the loaded phase would hold if every request within quota were admitted (Little's law). */
  offered_concurrency_within_quota: number;
  /** That ÷ node_max_inflight: above 1, the node cannot serve all it is entitled to serve. */
  overload_factor: number;
  unloaded: Totals;
  loaded: Totals;
  jain: { all: number | null; compliant: number | null; heavy: number | null };
  /** 429 share of compliant tenants' requests and of heavy tenants'. */
  share_429: { compliant: number; heavy: number };
  share_503: { compliant: number; heavy: number };
  /** p50/p99 (ms) of admitted (200) requests, per request kind and over every kind. */
  latency_ms: KindLatency[];
  retry_after_missing: number;
  retry_after_ms: { min: number; max: number } | null;
  unsettled: number;
  /** The node's own count of refusals (/readyz load.refused) after the run. */
  node_refused: Record<string, number> | null;
  /** Where the time went in the loaded phase (see LoadedPhaseStats). */
  loaded_phase: LoadedPhaseStats;
  duration_ms: number;
}

export interface MultiTenantReport {
  summary: MultiTenantSummary;
  classes: ClassResult[];
  tenants: TenantResult[];
}

/** n, p50 and p99 (nearest rank, to the µs) of latency samples in ms. */
export function latencyOf(samples: number[]): LatencySummary {
  const sorted = Float64Array.from(samples).sort();
  const r = (v: number | null) => (v === null ? null : Math.round(v * 1000) / 1000);
  return { n: sorted.length, p50: r(percentile(sorted, 0.5)), p99: r(percentile(sorted, 0.99)) };
}

/** a ÷ b to 3 decimals, null when either is missing or b is 0. */
export function ratio(a: number | null, b: number | null): number | null {
  return a === null || b === null || b === 0 ? null : Math.round((a / b) * 1000) / 1000;
}

export function round(v: number | null, digits = 4): number | null {
  if (v === null) return null;
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/** Totals of `counts` with the refusal shares, and Jain's index and spread of the served shares `xs`. */
export function aggregate(counts: Counts[], xs: number[]): Totals {
  const c = sumCounts(counts);
  return {
    ...outcomeFields(c),
    unsettled: c.unsettled,
    share_429: round(share(c.r429, c.sent)) as number,
    share_503: round(share(c.r503, c.sent)) as number,
    jain: round(jainIndex(xs)),
    x_mean: xs.length > 0 ? round(xs.reduce((a, b) => a + b, 0) / xs.length) : null,
    x_min: xs.length > 0 ? round(Math.min(...xs)) : null,
    x_max: xs.length > 0 ? round(Math.max(...xs)) : null,
  };
}

export function sumCounts(counts: Counts[]): Counts {
  return counts.reduce(addCounts, emptyCounts());
}
