/**
 * The regression gate: each metric of the run against its baseline ratio. The margin is
 * relative and works the same way in both directions: a higher-is-better ratio regressed when
 * it fell below `baseline × (1 − margin)`, a lower-is-better one (server CPU per request over
 * the floor's) when it rose above `baseline ÷ (1 − margin)`, i.e. when its inverse fell by the
 * margin; so a 2× slowdown moves either kind past any margin under 0.5. A move the good way is
 * never a failure (update the baseline to keep it). Metrics without a baseline are `new`;
 * baseline keys of a bench that ran but did not produce them are `missing`; a baseline entry
 * marked `informational` (a metric that swings too far for any margin to both pass on a busy
 * machine and catch a 2× slowdown) gives `info`, with `beyond_limit` saying whether it would
 * have regressed. Only `regressed` fails the gate.
 */
import type { Baseline } from "./baseline.js";
import { type Metric, significant } from "./normalise.js";

export type Verdict = "ok" | "regressed" | "new" | "missing" | "info";

export interface GateResult {
  key: string;
  bench: string;
  verdict: Verdict;
  higher_is_better: boolean;
  /** This run's ratio (absent when missing). */
  ratio?: number;
  /** The baseline's ratio (absent when new). */
  baseline?: number;
  margin?: number;
  /** The worst ratio that still passes: baseline × (1 − margin), or baseline ÷ (1 − margin) when lower is better. */
  limit?: number;
  /** ratio ÷ baseline − 1, e.g. −0.3 for 30 % lower. */
  change?: number;
  /** For an `info` metric: whether it is past its limit (it would have regressed). */
  beyond_limit?: boolean;
}

/** The worst passing ratio for a baseline ratio, margin and direction. */
export function limitOf(baseline: number, margin: number, higherIsBetter: boolean): number {
  return higherIsBetter ? baseline * (1 - margin) : baseline / (1 - margin);
}

export function gate(
  metrics: readonly Metric[],
  baseline: Baseline,
  defaultMargin: number,
  benchesRun: readonly string[],
): GateResult[] {
  const results: GateResult[] = metrics.map((m) => {
    const entry = baseline[m.key];
    const higher = m.higher_is_better;
    if (!entry)
      return { key: m.key, bench: m.bench, verdict: "new", higher_is_better: higher, ratio: m.ratio };
    const margin = entry.margin ?? defaultMargin;
    const limit = limitOf(entry.ratio, margin, higher);
    const beyond = higher ? m.ratio < limit : m.ratio > limit;
    return {
      key: m.key,
      bench: m.bench,
      verdict: entry.informational ? "info" : beyond ? "regressed" : "ok",
      higher_is_better: higher,
      ratio: m.ratio,
      baseline: entry.ratio,
      margin,
      limit: significant(limit),
      change: round(m.ratio / entry.ratio - 1),
      ...(entry.informational ? { beyond_limit: beyond } : {}),
    };
  });
  const seen = new Set(metrics.map((m) => m.key));
  for (const [key, entry] of Object.entries(baseline)) {
    const bench = key.split("/", 1)[0] as string;
    // Benches left out of this run (--only) are not missing, just not run.
    if (seen.has(key) || !benchesRun.includes(bench)) continue;
    results.push({
      key,
      bench,
      verdict: "missing",
      higher_is_better: entry.higher_is_better !== false,
      baseline: entry.ratio,
      margin: entry.margin ?? defaultMargin,
    });
  }
  return results;
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
