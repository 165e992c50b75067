import { GOAL, type LeakageResult } from "./result.js";

const pct = (x: number) => `${x >= 0 ? "+" : ""}${(x * 100).toFixed(0)}%`;
const f3 = (x: number) => x.toFixed(3);

/** The report as a fixed-width table: one row per scenario and defence. */
export function resultTable(results: readonly LeakageResult[]): string {
  const header = [
    "secret",
    "defence",
    "traces",
    "k-NN AUC",
    "XGBoost AUC",
    "best [95% CI]",
    "bandwidth",
    "latency",
    "goal",
  ];
  const rows = results.map((r) => [
    r.scenario,
    r.defence,
    String(r.traces),
    f3(r.knn_auc),
    r.xgboost_auc === undefined ? "–" : f3(r.xgboost_auc),
    `${f3(r.auc)} [${f3(r.ci[0])}, ${f3(r.ci[1])}]`,
    pct(r.bandwidth_overhead),
    pct(r.latency_overhead),
    r.meets_goal ? "met" : "–",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] as string).length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] as number)).join("  ");
  return [
    line(header),
    line(widths.map((w) => "-".repeat(w))),
    ...rows.map(line),
    "",
    `goal: AUC ≤ ${GOAL.auc} and upper CI ≤ ${GOAL.ciHigh}, bandwidth ≤ +${GOAL.bandwidth * 100}%, latency ≤ +${GOAL.latency * 100}% (against "none" in the same run)`,
  ].join("\n");
}
