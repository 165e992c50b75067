/**
 * The report of a run, built from its phases' tallies: one result per tenant (its
 * entitlement and served share), one per class, and the run's summary.
 */
import { type BucketTerms, entitlement, jainIndex, servedShare, share } from "../fairness.js";
import { offeredPerSec, quotaOf, type Tenant, type TenantClass } from "./classes.js";
import { type Counts, outcomeFields, type PhaseCollector } from "./counts.js";
import { BACKEND_APP, ECHO_APP, kindsWeightOfApp, type RequestKindSpec } from "./kinds.js";
import type { Settings } from "./options.js";
import {
  aggregate,
  type ClassResult,
  type KindLatency,
  type LoadedPhaseStats,
  latencyOf,
  type MultiTenantReport,
  type MultiTenantSummary,
  ratio,
  round,
  sumCounts,
  type TenantResult,
} from "./summary.js";

/** What a run measured. */
export interface RunOutcome {
  unloaded: PhaseCollector;
  loaded: PhaseCollector;
  loadedStats: LoadedPhaseStats;
  nodeRefused: Record<string, number> | null;
}

/** The run's scenario: who sent what, with which settings. */
export interface Scenario {
  tenants: Tenant[];
  kinds: RequestKindSpec[];
  settings: Settings;
}

type TenantFilter = (t: Tenant) => boolean;
const everyone: TenantFilter = () => true;
const compliant: TenantFilter = (t) => !t.cls.heavy;
const heavy: TenantFilter = (t) => t.cls.heavy;

/** Builds the report; `began` (performance.now() at the start) gives duration_ms. */
export function buildReport(scenario: Scenario, outcome: RunOutcome, began: number): MultiTenantReport {
  const tenantResults = tenantResultsOf(scenario.tenants, outcome.loaded, scenario.settings.loadedSeconds);
  const classResults = scenario.settings.classes.map((cls) =>
    classResultOf(cls, scenario.tenants, tenantResults, outcome.loaded),
  );
  const summary = summaryOf(scenario, outcome, tenantResults, began);
  return { summary, classes: classResults, tenants: tenantResults };
}

/** Per tenant: entitlement over the loaded phase, and its served share. */
function tenantResultsOf(tenants: Tenant[], loaded: PhaseCollector, loadedSeconds: number): TenantResult[] {
  return tenants.map((t, i) => {
    const c = loaded.counts[i] as Counts;
    let entitled = 0;
    for (const [app, sent] of loaded.sentByApp[i] as Map<number, number>) {
      entitled += entitlement(sent, t.quota.get(app) as BucketTerms, loadedSeconds);
    }
    return {
      load: "tenant",
      tenant: `0x${t.id.toString(16)}`,
      class: t.cls.name,
      heavy: t.cls.heavy,
      offered_per_sec: t.cls.offeredPerSec,
      ...outcomeFields(c),
      entitlement: Math.round(entitled * 1000) / 1000,
      x: round(servedShare(c.ok, entitled)),
    };
  });
}

/** Served shares (x) of the tenants `pick` selects, those that sent nothing left out. */
function xsOf(tenants: Tenant[], results: TenantResult[], pick: TenantFilter): number[] {
  return results.filter((_, i) => pick(tenants[i] as Tenant)).flatMap((r) => (r.x === null ? [] : [r.x]));
}

function countsOf(tenants: Tenant[], collector: PhaseCollector, pick: TenantFilter): Counts[] {
  return collector.counts.filter((_, i) => pick(tenants[i] as Tenant));
}

function classResultOf(
  cls: TenantClass,
  tenants: Tenant[],
  results: TenantResult[],
  loaded: PhaseCollector,
): ClassResult {
  const inClass = (t: Tenant) => t.cls === cls;
  const quota = quotaOf(cls);
  return {
    load: "tenant-class",
    class: cls.name,
    tenants: tenants.filter(inClass).length,
    heavy: cls.heavy,
    quota: { echo: quota.get(ECHO_APP) as BucketTerms, backend: quota.get(BACKEND_APP) as BucketTerms },
    offered_per_sec_each: cls.offeredPerSec,
    ...aggregate(countsOf(tenants, loaded, inClass), xsOf(tenants, results, inClass)),
  };
}

function summaryOf(
  { tenants, kinds, settings }: Scenario,
  { unloaded, loaded, loadedStats, nodeRefused }: RunOutcome,
  tenantResults: TenantResult[],
  began: number,
): MultiTenantSummary {
  const loadedAll = aggregate(loaded.counts, xsOf(tenants, tenantResults, everyone));
  return {
    load: "summary",
    tenants: settings.tenants,
    seconds: {
      warmup: settings.warmupSeconds,
      unloaded: settings.unloadedSeconds,
      loaded: settings.loadedSeconds,
    },
    node_max_inflight: settings.nodeMaxInflight,
    ...offeredLoad(tenants, kinds, settings.nodeMaxInflight),
    unloaded: aggregate(unloaded.counts, []),
    loaded: loadedAll,
    jain: {
      all: loadedAll.jain,
      compliant: round(jainIndex(xsOf(tenants, tenantResults, compliant))),
      heavy: round(jainIndex(xsOf(tenants, tenantResults, heavy))),
    },
    ...refusalShares(tenants, loaded),
    latency_ms: latencyTable(kinds, unloaded, loaded),
    ...retryAfter(unloaded, loaded),
    unsettled: loadedAll.unsettled + unloaded.counts.reduce((s, c) => s + c.unsettled, 0),
    node_refused: nodeRefused,
    loaded_phase: loadedStats,
    duration_ms: Math.round(performance.now() - began),
  };
}

/** Offered load of the loaded phase, the part within quota, and the concurrency that part would hold if all were admitted. */
function offeredLoad(
  tenants: Tenant[],
  kinds: RequestKindSpec[],
  nodeMaxInflight: number,
): Pick<
  MultiTenantSummary,
  "offered_per_sec" | "offered_within_quota_per_sec" | "offered_concurrency_within_quota" | "overload_factor"
> {
  const weightSum = kinds.reduce((s, k) => s + k.weight, 0);
  let withinQuota = 0;
  let concurrency = 0;
  for (const t of tenants) {
    for (const k of kinds) {
      const rate = (t.cls.offeredPerSec * k.weight) / weightSum;
      const admitted = Math.min(
        rate,
        (t.quota.get(k.app) as BucketTerms).rate * (k.weight / kindsWeightOfApp(kinds, k.app)),
      );
      withinQuota += admitted;
      concurrency += (admitted * k.holdMs) / 1000;
    }
  }
  return {
    offered_per_sec: Math.round(offeredPerSec(tenants) * 10) / 10,
    offered_within_quota_per_sec: Math.round(withinQuota * 10) / 10,
    offered_concurrency_within_quota: Math.round(concurrency * 10) / 10,
    overload_factor: Math.round((concurrency / nodeMaxInflight) * 100) / 100,
  };
}

/** 429 and 503 shares of the loaded phase, compliant tenants against heavy ones. */
function refusalShares(
  tenants: Tenant[],
  loaded: PhaseCollector,
): Pick<MultiTenantSummary, "share_429" | "share_503"> {
  const compliantCounts = sumCounts(countsOf(tenants, loaded, compliant));
  const heavyCounts = sumCounts(countsOf(tenants, loaded, heavy));
  return {
    share_429: {
      compliant: round(share(compliantCounts.r429, compliantCounts.sent), 5) as number,
      heavy: round(share(heavyCounts.r429, heavyCounts.sent), 5) as number,
    },
    share_503: {
      compliant: round(share(compliantCounts.r503, compliantCounts.sent), 5) as number,
      heavy: round(share(heavyCounts.r503, heavyCounts.sent), 5) as number,
    },
  };
}

/** p50/p99 of 200 replies per kind and over all kinds ("all", hold_ms -1), loaded against unloaded. */
function latencyTable(
  kinds: RequestKindSpec[],
  unloaded: PhaseCollector,
  loaded: PhaseCollector,
): KindLatency[] {
  return [
    ...kinds.map((k, i) => ({
      kind: k.name,
      hold_ms: k.holdMs,
      u: unloaded.latencies[i] as number[],
      l: loaded.latencies[i] as number[],
    })),
    { kind: "all", hold_ms: Number.NaN, u: unloaded.latencies.flat(), l: loaded.latencies.flat() },
  ].map(({ kind, hold_ms, u, l }) => {
    const un = latencyOf(u);
    const lo = latencyOf(l);
    return {
      kind,
      hold_ms: Number.isNaN(hold_ms) ? -1 : hold_ms,
      unloaded: un,
      loaded: lo,
      p50_ratio: ratio(lo.p50, un.p50),
      p99_ratio: ratio(lo.p99, un.p99),
    };
  });
}

/** Refusals without retry_after_ms, and the range of those with it, over both counted phases. */
function retryAfter(
  unloaded: PhaseCollector,
  loaded: PhaseCollector,
): Pick<MultiTenantSummary, "retry_after_missing" | "retry_after_ms"> {
  return {
    retry_after_missing:
      loaded.counts.reduce((s, c) => s + c.retryAfterMissing, 0) +
      unloaded.counts.reduce((s, c) => s + c.retryAfterMissing, 0),
    retry_after_ms: Number.isFinite(Math.min(loaded.retryMin, unloaded.retryMin))
      ? {
          min: Math.min(loaded.retryMin, unloaded.retryMin),
          max: Math.max(loaded.retryMax, unloaded.retryMax),
        }
      : null,
  };
}
