/**
 * The attack: split traces by session, turn each into features, train k-NN and XGBoost on the
 * train side, score the test side, and report each learner's macro one-vs-rest ROC-AUC with a
 * bootstrap 95 % CI. The attacker is credited with the stronger learner.
 */
import { macroAuc } from "./auc.js";
import { bootstrapAucCi } from "./bootstrap.js";
import { traceFeatures } from "./features.js";
import { defaultK, knnScores } from "./knn.js";
import { splitBySession } from "./split.js";
import type { Trace } from "./trace.js";
import { type XGBoostParams, xgboostScores } from "./xgboost.js";

export interface EvaluateOptions {
  /** Seeds the split, XGBoost's sampling and the bootstrap (default 1). */
  seed?: number;
  /** Target share of each class in the test set (default 0.5). */
  testFraction?: number;
  /** k-NN neighbours (default round(√n_train), see `defaultK`). */
  k?: number;
  /** false skips XGBoost; an object sets its parameters (default true). */
  xgboost?: boolean | XGBoostParams;
  /** Bootstrap resamples for the CIs (default 1,000). */
  resamples?: number;
}

export interface LearnerResult {
  /** Macro one-vs-rest ROC-AUC on the test set (the binary AUC for two classes). */
  auc: number;
  /** Percentile bootstrap 95 % CI of `auc`, resampling test sessions (traces of one session are not independent). */
  ci: [number, number];
  /** One-vs-rest AUC per class label. */
  perClass: Record<string, number>;
  /** Wall time to train and score (the bootstrap excluded). */
  seconds: number;
}

export interface Evaluation {
  /** The labels, sorted; class index i is classes[i]. */
  classes: string[];
  trainCount: number;
  testCount: number;
  knn: LearnerResult;
  xgboost?: LearnerResult;
  /** The learner with the higher AUC (k-NN on a tie). */
  best: "knn" | "xgboost";
}

export async function evaluate(traces: Trace[], options: EvaluateOptions = {}): Promise<Evaluation> {
  const seed = options.seed ?? 1;
  const classes = [...new Set(traces.map((trace) => trace.label))].sort();
  if (classes.length < 2) throw new Error(`need at least two labels, got ${classes.length}`);
  const classIndex = new Map(classes.map((label, i) => [label, i]));

  const { train, test } = splitBySession(traces, { seed, testFraction: options.testFraction ?? 0.5 });
  const trainRows = train.map(traceFeatures);
  const testRows = test.map(traceFeatures);
  const trainLabels = train.map((trace) => classIndex.get(trace.label) as number);
  const testLabels = test.map((trace) => classIndex.get(trace.label) as number);
  const testSessions = test.map((trace) => trace.session);

  const score = async (learn: () => number[][] | Promise<number[][]>): Promise<LearnerResult> => {
    const started = performance.now();
    const scores = await learn();
    const seconds = (performance.now() - started) / 1000;
    const { auc, perClass } = macroAuc(scores, testLabels, classes.length);
    const ci = bootstrapAucCi(scores, testLabels, classes.length, {
      seed,
      resamples: options.resamples,
      groups: testSessions,
    });
    return {
      auc,
      ci,
      perClass: Object.fromEntries(classes.map((label, i) => [label, perClass[i] as number])),
      seconds,
    };
  };

  const knn = await score(() =>
    knnScores(trainRows, trainLabels, testRows, classes.length, options.k ?? defaultK(trainRows.length)),
  );
  const xgboostOption = options.xgboost ?? true;
  const xgboost =
    xgboostOption === false
      ? undefined
      : await score(() =>
          xgboostScores(trainRows, trainLabels, testRows, classes.length, {
            seed,
            ...(xgboostOption === true ? {} : xgboostOption),
          }),
        );
  return {
    classes,
    trainCount: train.length,
    testCount: test.length,
    knn,
    ...(xgboost ? { xgboost } : {}),
    best: xgboost && xgboost.auc > knn.auc ? "xgboost" : "knn",
  };
}
