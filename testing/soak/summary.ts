/**
 * The run's summary and its acceptance verdicts (issue 22), each with the rule it applied.
 */
import type { FaultPlan, FaultWindow } from "./faults.js";
import type { Sample } from "./sampler.js";
import type { SubscriptionEvent } from "./subscription.js";
import { availability, type Counts, type Split, type Tally } from "./tally.js";

export const AVAILABILITY_GOAL = 0.9999;
export const RSS_GROWTH_LIMIT = 0.1;
const WARMUP_MS = 10 * 60_000;

export interface Verdict {
  pass: boolean;
  value: number | null;
  limit: number | null;
  rule: string;
  /** Why the verdict could not be judged (value null), when it could not. */
  reason?: string;
}

export const VERDICT_NAMES = [
  "availability",
  "no_refusals_outside_faults",
  "no_hung",
  "fds_flat",
  "rss_growth",
  "eventloop_p99_reported",
] as const;
export type VerdictName = (typeof VERDICT_NAMES)[number];

export interface SummaryInput {
  startedAt: Date;
  plannedMs: number;
  elapsedMs: number;
  seed: number;
  rate: number;
  sampleIntervalMs: number;
  deadlineMs: number;
  hangGraceMs: number;
  faultGraceMs: number;
  plan: FaultPlan | undefined;
  nodeFlags: string[];
  tally: Tally;
  windows: readonly FaultWindow[];
  samples: readonly Sample[];
  subDelivered: number;
  subEvents: readonly SubscriptionEvent[];
  mismatches: number;
  capMinted: number;
  capRevoked: number;
  capResends: number;
  scrapeErrors: number;
}

const round = (v: number | undefined | null, digits = 6): number | null =>
  v === undefined || v === null || !Number.isFinite(v) ? null : Number(v.toFixed(digits));

function quantile(values: readonly number[], q: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

const splitOut = (s: Split) => ({
  all: s.all,
  outside_faults: s.clean,
  during_fault: s.fault,
  availability: round(availability(s.all)),
  availability_outside_faults: round(availability(s.clean)),
  availability_during_fault: round(availability(s.fault)),
});

export function summarize(i: SummaryInput) {
  const samples = i.samples;
  const t = i.tally;
  const clean: Counts = t.total.clean;
  const availClean = availability(clean);
  const hung = t.total.all.hung;
  const refusedClean = clean.refused;

  // Warm-up: the first 10 min, or the first half of a run shorter than 20 min. FDs and RSS are
  // judged on the samples after it only.
  const short = i.elapsedMs < 2 * WARMUP_MS;
  const warmupS = (short ? i.elapsedMs / 2 : WARMUP_MS) / 1000;
  const warmupRule = short ? "the first half of the run (run shorter than 20 min)" : "the first 10 min";
  const after = samples.filter((s) => s.t >= warmupS);

  // FDs: the largest count of the second half of the samples after warm-up against the first
  // half's plus a slack. The node's idle object-file cache (up to 256 FDs) fills in the first
  // minute; that climb is in the warm-up, and what follows must stay level.
  const half = Math.floor(after.length / 2);
  const fdFirst = after.slice(0, half).map((s) => s.fds);
  const fdLast = after.slice(half).map((s) => s.fds);
  const fdJudged = fdFirst.length > 0 && fdLast.length > 0;
  const firstMax = fdJudged ? Math.max(...fdFirst) : undefined;
  const lastMax = fdJudged ? Math.max(...fdLast) : undefined;
  const fdSlack = firstMax === undefined ? null : Math.max(8, Math.ceil(firstMax * 0.05));
  const fdReason = fdJudged
    ? undefined
    : `${after.length} sample(s) after the ${round(warmupS, 1)} s warm-up; at least 2 are needed`;

  // RSS: median of the first `edge` samples after warm-up against the median of the last
  // `edge`; the two windows must not overlap, or the growth would be zero by construction.
  const edge = Math.max(3, Math.ceil(after.length / 10));
  const rssJudged = after.length >= 2 * edge;
  const rssBase = rssJudged
    ? quantile(
        after.slice(0, edge).map((s) => s.rss_bytes),
        0.5,
      )
    : undefined;
  const rssFinal = rssJudged
    ? quantile(
        after.slice(-edge).map((s) => s.rss_bytes),
        0.5,
      )
    : undefined;
  const rssGrowth = rssBase && rssFinal !== undefined ? rssFinal / rssBase - 1 : undefined;
  const rssReason = rssJudged
    ? undefined
    : `${after.length} sample(s) after the ${round(warmupS, 1)} s warm-up; at least ${2 * edge} are needed so the first and last ${edge} do not overlap`;
  const heapAfter = after.map((s) => s.heap_used_bytes).filter((v): v is number => v !== null);
  const heapJudged = heapAfter.length >= 2 * edge;
  const heapBase = heapJudged ? quantile(heapAfter.slice(0, edge), 0.5) : undefined;
  const heapFinal = heapJudged ? quantile(heapAfter.slice(-edge), 0.5) : undefined;

  const p99s = samples.map((s) => s.eventloop_p99_ms).filter((v): v is number => v !== null);
  const maxes = samples.map((s) => s.eventloop_max_ms).filter((v): v is number => v !== null);
  const elP99 = quantile(p99s, 0.99);

  const verdicts: Record<VerdictName, Verdict> = {
    availability: {
      pass: availClean !== undefined && availClean >= AVAILABILITY_GOAL,
      value: round(availClean),
      limit: AVAILABILITY_GOAL,
      rule: "success / admitted (success + failed + hung) over requests that did not overlap an injected fault window of a dependency they use; ≥ 0.9999",
    },
    no_refusals_outside_faults: {
      pass: refusedClean === 0,
      value: refusedClean,
      limit: 0,
      rule: "requests refused (429 or 503 with retry_after_ms) that did not overlap an injected fault window of a dependency they use; the quotas are set never to refuse, so any is a defect; must be 0",
    },
    no_hung: {
      pass: hung === 0,
      value: hung,
      limit: 0,
      rule: "requests with no answer within their deadline (SDK deadline fired, or not settled by deadline + grace; a storage call resent after a 401: by 2 deadlines + grace after the 401), faults included; must be 0",
    },
    fds_flat: {
      pass:
        firstMax !== undefined && lastMax !== undefined && fdSlack !== null && lastMax <= firstMax + fdSlack,
      value: lastMax ?? null,
      limit: firstMax === undefined || fdSlack === null ? null : firstMax + fdSlack,
      rule: `max open FDs of the node over the second half of the samples after warm-up ≤ max over the first half of them + max(8, 5 % of it). Warm-up: ${warmupRule}`,
      ...(fdReason ? { reason: fdReason } : {}),
    },
    rss_growth: {
      pass: rssGrowth !== undefined && rssGrowth < RSS_GROWTH_LIMIT,
      value: round(rssGrowth, 4),
      limit: RSS_GROWTH_LIMIT,
      rule: `RSS median of the last 10 % of the samples after warm-up over the median of the first 10 % of them (min 3 samples each, the two sets must not overlap), minus 1; < 0.10. Warm-up: ${warmupRule}`,
      ...(rssReason ? { reason: rssReason } : {}),
    },
    eventloop_p99_reported: {
      pass: p99s.length > 0,
      value: round(elP99, 3),
      limit: null,
      rule: "reported, no limit: p99 over the run of the node's per-interval event-loop delay p99 (ms)",
    },
  };

  const byOp: Record<string, ReturnType<typeof splitOut>> = {};
  for (const [op, s] of [...t.byOp.entries()].sort()) byOp[op] = splitOut(s);

  return {
    run: {
      started_at: i.startedAt.toISOString(),
      planned_s: i.plannedMs / 1000,
      elapsed_s: round(i.elapsedMs / 1000, 1),
      seed: i.seed,
      rate_per_s: i.rate,
      sample_interval_s: i.sampleIntervalMs / 1000,
      samples: samples.length,
      scrape_errors: i.scrapeErrors,
      deadline_ms: i.deadlineMs,
      hang_grace_ms: i.hangGraceMs,
      fault_grace_ms: i.faultGraceMs,
      fault_plan: i.plan ?? null,
      node_flags: i.nodeFlags,
    },
    requests: {
      ...splitOut(t.total),
      by_op: byOp,
      not_successful: [...t.reasons.entries()]
        .sort((a, b) => b[1] - a[1])
        .map(([what, count]) => ({ what, count, first_at_s: round((t.firstSeen.get(what) ?? 0) / 1000, 1) })),
      shed_by_harness: t.shed,
      late_settles: t.lateSettles,
      body_mismatches: i.mismatches,
      capabilities: { minted: i.capMinted, revoked: i.capRevoked, stream_resends_after_401: i.capResends },
      subscription: {
        delivered: i.subDelivered,
        restarts: i.subEvents.map((e) => ({ at_s: round(e.at / 1000, 1), why: e.reason })),
      },
    },
    faults: i.windows.map((w) => ({
      dependency: w.dependency,
      killed_at_s: round(w.killedAt / 1000, 1),
      ready_at_s: round(w.readyAt === undefined ? null : w.readyAt / 1000, 1),
      down_s: round(w.readyAt === undefined ? null : (w.readyAt - w.killedAt) / 1000, 2),
      recovered_after_s: round(
        w.recoveredAt === undefined || w.readyAt === undefined ? null : (w.recoveredAt - w.readyAt) / 1000,
        3,
      ),
      ...(w.error ? { error: w.error } : {}),
    })),
    resources: {
      fds: {
        warmup_s: round(warmupS, 1),
        judged_samples: after.length,
        first_half_max: firstMax ?? null,
        last_half_max: lastMax ?? null,
        slack: fdSlack,
        min: min(samples.map((s) => s.fds)),
        max: max(samples.map((s) => s.fds)),
      },
      rss_bytes: {
        warmup_s: round(warmupS, 1),
        edge_samples: edge,
        baseline: rssBase ?? null,
        final: rssFinal ?? null,
        growth: round(rssGrowth, 4),
        max: max(samples.map((s) => s.rss_bytes)),
      },
      heap_used_bytes: {
        baseline: heapBase ?? null,
        final: heapFinal ?? null,
        growth: round(heapBase && heapFinal !== undefined ? heapFinal / heapBase - 1 : undefined, 4),
        max: max(heapAfter),
      },
      eventloop_ms: {
        p99_of_interval_p99: round(elP99, 3),
        median_interval_p99: round(quantile(p99s, 0.5), 3),
        max_interval_p99: round(max(p99s), 3),
        max: round(max(maxes), 3),
        harness_max_interval_p99: round(max(samples.map((s) => s.harness_eventloop_p99_ms)), 3),
      },
    },
    verdicts,
    pass: Object.values(verdicts).every((v) => v.pass),
  };
}

export type Summary = ReturnType<typeof summarize>;

function max(values: readonly number[]): number | null {
  return values.length ? values.reduce((a, b) => Math.max(a, b)) : null;
}

function min(values: readonly number[]): number | null {
  return values.length ? values.reduce((a, b) => Math.min(a, b)) : null;
}
