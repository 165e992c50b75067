/**
 * The whole measurement: for each defence setting and secret, collect traces through the
 * tap, attack them (k-NN and XGBoost on other sessions' traces), and price the defence
 * against the undefended run of the same secret.
 */
import { evaluate } from "./analysis/evaluate.js";
import { collect } from "./collect.js";
import type { DefenceSetting } from "./defences.js";
import { type LeakageResult, median, meetsGoal } from "./report/result.js";
import type { LeakageRig } from "./rig.js";
import type { Scenario } from "./scenarios/scenario.js";

export interface HarnessOptions {
  scenarios: readonly Scenario[];
  /** The first must be the undefended setting: overheads are measured against it. */
  defences: readonly DefenceSetting[];
  tracesPerClass: number;
  actionsPerSession: number;
  concurrency: number;
  seed: number;
  xgboost: boolean;
  say?: (line: string) => void;
  /** Each result as soon as it is measured. */
  onResult?: (result: LeakageResult) => void;
}

export async function runHarness(rig: LeakageRig, options: HarnessOptions): Promise<LeakageResult[]> {
  const say = options.say ?? (() => {});
  const results: LeakageResult[] = [];
  for (const scenario of options.scenarios) {
    await scenario.prepare?.(rig);
    try {
      // One untimed session first: the node's code paths for this secret are cold until then,
      // which would make the undefended baseline (run first) look slow and the defences cheap.
      await scenario.session(rig, {
        shaping: undefined,
        labels: [...scenario.classes, ...scenario.classes],
        sessionId: `warm-up-${scenario.name}`,
        random: () => 0.5,
      });
      let baseline: { bytes: number; latency: number } | undefined;
      for (const defence of options.defences) {
        const started = performance.now();
        let lastSaid = 0;
        const collected = await collect(rig, scenario, defence, {
          tracesPerClass: options.tracesPerClass,
          actionsPerSession: options.actionsPerSession,
          concurrency: options.concurrency,
          seed: options.seed,
          progress: (done, total) => {
            if (performance.now() - lastSaid < 5000 && done < total) return;
            lastSaid = performance.now();
            say(`  ${scenario.name} / ${defence.name}: ${done}/${total} traces`);
          },
        });
        const evaluation = await evaluate(collected.traces, { seed: options.seed, xgboost: options.xgboost });
        const bytes = collected.wireBytes / Math.max(1, collected.actions);
        const latency = median(collected.latenciesMs);
        baseline ??= { bytes, latency };
        const best =
          evaluation.best === "xgboost" && evaluation.xgboost ? evaluation.xgboost : evaluation.knn;
        const partial = {
          scenario: scenario.name,
          secret: scenario.secret,
          defence: defence.name,
          defence_description: defence.description,
          classes: scenario.classes.length,
          traces: collected.traces.length,
          train: evaluation.trainCount,
          test: evaluation.testCount,
          knn_auc: evaluation.knn.auc,
          knn_ci: evaluation.knn.ci,
          ...(evaluation.xgboost
            ? { xgboost_auc: evaluation.xgboost.auc, xgboost_ci: evaluation.xgboost.ci }
            : {}),
          best: evaluation.best,
          auc: best.auc,
          ci: best.ci,
          bytes_per_action: Math.round(bytes),
          median_latency_ms: Math.round(latency * 100) / 100,
          bandwidth_overhead: bytes / baseline.bytes - 1,
          latency_overhead: baseline.latency > 0 ? latency / baseline.latency - 1 : 0,
        };
        const result: LeakageResult = { ...partial, meets_goal: meetsGoal(partial) };
        results.push(result);
        options.onResult?.(result);
        say(
          `${scenario.name} / ${defence.name}: AUC ${result.auc.toFixed(3)} [${result.ci[0].toFixed(3)}, ${result.ci[1].toFixed(3)}] (${result.best}), bandwidth ${(result.bandwidth_overhead * 100).toFixed(0)}%, latency ${(result.latency_overhead * 100).toFixed(0)}% — ${((performance.now() - started) / 1000).toFixed(0)} s`,
        );
      }
    } finally {
      await scenario.dispose?.();
    }
  }
  return results;
}
