/** One measured cell of the report: a scenario under a defence setting. */
export interface LeakageResult {
  scenario: string;
  secret: string;
  defence: string;
  defence_description: string;
  classes: number;
  traces: number;
  train: number;
  test: number;
  knn_auc: number;
  knn_ci: [number, number];
  xgboost_auc?: number;
  xgboost_ci?: [number, number];
  /** The stronger learner's figures: what the verdict uses. */
  best: "knn" | "xgboost";
  auc: number;
  ci: [number, number];
  bytes_per_action: number;
  median_latency_ms: number;
  /** Against the undefended setting of the same scenario in the same run; 0 for it. */
  bandwidth_overhead: number;
  latency_overhead: number;
  meets_goal: boolean;
}

/** The bar: AUC ≤ 0.60 with its upper 95 % CI ≤ 0.65, at ≤ 100 % bandwidth and ≤ 25 % latency. */
export const GOAL = { auc: 0.6, ciHigh: 0.65, bandwidth: 1, latency: 0.25 } as const;

export function meetsGoal(
  r: Pick<LeakageResult, "auc" | "ci" | "bandwidth_overhead" | "latency_overhead">,
): boolean {
  return (
    r.auc <= GOAL.auc &&
    r.ci[1] <= GOAL.ciHigh &&
    r.bandwidth_overhead <= GOAL.bandwidth &&
    r.latency_overhead <= GOAL.latency
  );
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
