/**
 * The committed baseline (bench/perf/baseline.json): for each metric key, the ratio it had when
 * the baseline was written, when, a note saying on what, its direction when lower is better,
 * and optionally its own margin (for a metric that swings more than the default allows) or the
 * mark `informational` (reported, never failing the gate).
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Metric } from "./normalise.js";

export const DEFAULT_BASELINE_FILE = fileURLToPath(new URL("./baseline.json", import.meta.url));

export interface BaselineEntry {
  ratio: number;
  measured_at: string;
  note: string;
  /** Relative margin for this metric, overriding `--margin`. */
  margin?: number;
  /** Present (false) for a cost ratio such as `…/server_cpu_ratio`; absent means higher is better. */
  higher_is_better?: false;
  /**
   * Reported but not gated: the metric swings too far between runs on a busy machine for any
   * margin to pass reliably and still catch a 2× slowdown. Set by hand, with the reason in
   * `informational_why`.
   */
  informational?: true;
  informational_why?: string;
}

export type Baseline = Record<string, BaselineEntry>;

export function readBaseline(file: string): Baseline {
  if (!existsSync(file)) return {};
  const parsed: unknown = JSON.parse(readFileSync(file, "utf8"));
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new Error(`${file}: expected an object of metric keys`);
  }
  for (const [key, entry] of Object.entries(parsed)) {
    const e = entry as Partial<BaselineEntry> | null;
    if (typeof e?.ratio !== "number" || !(e.ratio > 0)) throw new Error(`${file}: ${key}: ratio must be > 0`);
    if (e.margin !== undefined && !(typeof e.margin === "number" && e.margin >= 0 && e.margin < 1)) {
      throw new Error(`${file}: ${key}: margin must be in [0, 1)`);
    }
    if (e.higher_is_better !== undefined && e.higher_is_better !== false) {
      throw new Error(`${file}: ${key}: higher_is_better is either false or absent`);
    }
    if (e.informational !== undefined && e.informational !== true) {
      throw new Error(`${file}: ${key}: informational is either true or absent`);
    }
  }
  return parsed as Baseline;
}

/**
 * The baseline with this run's metrics written in. Entries this run did not measure stay
 * (a `--only` run updates its own benches), and so do per-metric margins and `informational`
 * marks: those were set by hand and say how much a metric swings, which one run does not change.
 */
export function updatedBaseline(old: Baseline, metrics: readonly Metric[], note: string, at: Date): Baseline {
  const next: Baseline = { ...old };
  for (const m of metrics) {
    const { margin, informational, informational_why } = old[m.key] ?? {};
    next[m.key] = {
      ratio: m.ratio,
      measured_at: at.toISOString(),
      note,
      ...(m.higher_is_better ? {} : { higher_is_better: false as const }),
      ...(margin === undefined ? {} : { margin }),
      ...(informational ? { informational, ...(informational_why ? { informational_why } : {}) } : {}),
    };
  }
  return Object.fromEntries(Object.entries(next).sort(([a], [b]) => a.localeCompare(b)));
}

export function writeBaseline(file: string, baseline: Baseline): void {
  writeFileSync(file, `${JSON.stringify(baseline, null, 2)}\n`);
}
