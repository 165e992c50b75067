/**
 * Percentile bootstrap of the macro AUC: the learner's test scores stay fixed and only the test
 * set is resampled. Stratified by default: each class with replacement to its own size, so
 * every resample keeps the class balance. Given each item's group (its session), whole groups
 * are resampled instead: traces of one session share a connection and its timing, so treating
 * them as independent would make the interval too narrow.
 */
import { seededRandom } from "../../support/seeded-random.js";
import { oneVsRest } from "./auc.js";

export interface BootstrapOptions {
  /** Default 1,000. */
  resamples?: number;
  /** PRNG seed (default 1): the same seed gives the same interval. */
  seed?: number;
  /** Confidence level (default 0.95). */
  level?: number;
  /** Per test item, the group (session) it belongs to: resample groups, not items. */
  groups?: readonly string[];
}

/** Percentile confidence interval [lower, upper] for the macro one-vs-rest AUC of fixed scores. */
export function bootstrapAucCi(
  scores: readonly (readonly number[])[],
  labels: readonly number[],
  classCount: number,
  options: BootstrapOptions = {},
): [number, number] {
  const resamples = options.resamples ?? 1000;
  const level = options.level ?? 0.95;
  if (!(Number.isInteger(resamples) && resamples > 0))
    throw new RangeError("resamples must be a positive integer");
  if (!(level > 0 && level < 1)) throw new RangeError("level must be in (0, 1)");
  const random = seededRandom(options.seed ?? 1);
  const aucOf = oneVsRest(scores, labels, classCount);
  // The units resampled, each drawn with replacement as often as its stratum has units.
  const strata = options.groups
    ? [groupMembers(options.groups, labels.length)]
    : Array.from({ length: classCount }, (_, c) => labels.flatMap((label, i) => (label === c ? [[i]] : [])));
  const weights = new Uint32Array(labels.length);
  const estimates: number[] = [];
  for (let r = 0; r < resamples; r++) {
    weights.fill(0);
    for (const units of strata) {
      for (let d = 0; d < units.length; d++) {
        for (const item of units[Math.floor(random() * units.length)] as number[]) {
          weights[item] = (weights[item] as number) + 1;
        }
      }
    }
    const { auc } = aucOf(weights);
    if (!Number.isNaN(auc)) estimates.push(auc);
  }
  if (estimates.length === 0) return [Number.NaN, Number.NaN];
  estimates.sort((a, b) => a - b);
  const tail = (1 - level) / 2;
  return [quantile(estimates, tail), quantile(estimates, 1 - tail)];
}

/** The items of each group, groups in first-seen order. */
function groupMembers(groups: readonly string[], count: number): number[][] {
  if (groups.length !== count) throw new RangeError("groups must name one group per test item");
  const members = new Map<string, number[]>();
  groups.forEach((group, i) => {
    const list = members.get(group);
    if (list) list.push(i);
    else members.set(group, [i]);
  });
  return [...members.values()];
}

/** Linearly interpolated quantile of sorted values (the common "type 7" definition). */
function quantile(sorted: readonly number[], p: number): number {
  const position = (sorted.length - 1) * p;
  const low = Math.floor(position);
  const high = Math.min(sorted.length - 1, low + 1);
  const lowValue = sorted[low] as number;
  return lowValue + ((sorted[high] as number) - lowValue) * (position - low);
}
