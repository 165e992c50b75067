/**
 * The regression gate: each metric of the run against its baseline ratio. A metric regressed
 * when its ratio fell below `baseline × (1 − margin)`; a rise is never a failure (update the
 * baseline to keep it). Metrics without a baseline are `new`; baseline keys of a bench that
 * ran but did not produce them are `missing`. Only `regressed` fails the gate.
 */
import type { Baseline } from "./baseline.js";
import type { Metric } from "./normalise.js";

export type Verdict = "ok" | "regressed" | "new" | "missing";

export interface GateResult {
  key: string;
  bench: string;
  verdict: Verdict;
  /** This run's ratio (absent when missing). */
  ratio?: number;
  /** The baseline's ratio (absent when new). */
  baseline?: number;
  margin?: number;
  /** The lowest ratio that still passes: baseline × (1 − margin). */
  floor?: number;
  /** ratio ÷ baseline − 1, e.g. −0.3 for 30 % lower. */
  change?: number;
}

export function gate(
  metrics: readonly Metric[],
  baseline: Baseline,
  defaultMargin: number,
  benchesRun: readonly string[],
): GateResult[] {
  const results: GateResult[] = metrics.map((m) => {
    const entry = baseline[m.key];
    if (!entry) return { key: m.key, bench: m.bench, verdict: "new", ratio: m.ratio };
    const margin = entry.margin ?? defaultMargin;
    const floor = entry.ratio * (1 - margin);
    return {
      key: m.key,
      bench: m.bench,
      verdict: m.ratio < floor ? "regressed" : "ok",
      ratio: m.ratio,
      baseline: entry.ratio,
      margin,
      floor: round(floor),
      change: round(m.ratio / entry.ratio - 1),
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
      baseline: entry.ratio,
      margin: entry.margin ?? defaultMargin,
    });
  }
  return results;
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
