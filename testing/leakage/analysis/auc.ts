/**
 * ROC-AUC as the Mann–Whitney statistic: the chance that a random positive outscores a random
 * negative, a tie counting one half. Items carry multiplicities (weights) so a bootstrap
 * resample is a weight vector over the fixed scores and needs no re-sort.
 */

/** Indices of `scores` in ascending score order. */
export function ascendingOrder(scores: ArrayLike<number>): Uint32Array {
  const order = Uint32Array.from({ length: scores.length }, (_, i) => i);
  return order.sort((a, b) => (scores[a] as number) - (scores[b] as number));
}

export interface BinaryAucOptions {
  /** `ascendingOrder(scores)`, when the caller reuses it across many calls. */
  order?: ArrayLike<number>;
  /** How many times each item counts (default once each), e.g. bootstrap multiplicities. */
  weights?: ArrayLike<number>;
}

/**
 * Binary AUC from ranks with averaged ties: (R₊ − n₊(n₊+1)/2) / (n₊·n₋), where R₊ is the rank
 * sum of the positives. NaN when either class is absent.
 */
export function binaryAuc(
  scores: ArrayLike<number>,
  positive: ArrayLike<boolean>,
  options: BinaryAucOptions = {},
): number {
  if (positive.length !== scores.length) {
    throw new RangeError(`${scores.length} scores but ${positive.length} labels`);
  }
  const order = options.order ?? ascendingOrder(scores);
  const weights = options.weights;
  let below = 0; // total weight ranked below the current tie group
  let positiveRankSum = 0;
  let positives = 0;
  let negatives = 0;
  for (let start = 0; start < order.length; ) {
    const score = scores[order[start] as number] as number;
    let groupWeight = 0;
    let groupPositives = 0;
    let end = start;
    for (; end < order.length && scores[order[end] as number] === score; end++) {
      const item = order[end] as number;
      const weight = weights ? (weights[item] as number) : 1;
      groupWeight += weight;
      if (positive[item]) groupPositives += weight;
    }
    // The group occupies ranks below+1 … below+groupWeight; each member gets their mean.
    positiveRankSum += groupPositives * (below + (groupWeight + 1) / 2);
    positives += groupPositives;
    negatives += groupWeight - groupPositives;
    below += groupWeight;
    start = end;
  }
  if (positives === 0 || negatives === 0) return Number.NaN;
  return (positiveRankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

export interface MulticlassAuc {
  /** Mean of the defined per-class one-vs-rest AUCs (NaN if none is defined). */
  auc: number;
  /** One-vs-rest AUC of class c (its score column against every other class), by class index. */
  perClass: number[];
}

/**
 * Prepares macro one-vs-rest AUC over fixed scores: `scores[i][c]` is item i's score for class c
 * and `labels[i]` its class index. The returned function takes optional per-item weights.
 * With two classes whose scores sum to one, both per-class AUCs equal the binary AUC.
 */
export function oneVsRest(
  scores: readonly (readonly number[])[],
  labels: readonly number[],
  classCount: number,
): (weights?: ArrayLike<number>) => MulticlassAuc {
  if (scores.length !== labels.length) {
    throw new RangeError(`${scores.length} score rows but ${labels.length} labels`);
  }
  const columns = Array.from({ length: classCount }, (_, c) =>
    Float64Array.from(scores, (row) => {
      const value = row[c];
      if (value === undefined || Number.isNaN(value)) throw new RangeError(`missing score for class ${c}`);
      return value;
    }),
  );
  const orders = columns.map((column) => ascendingOrder(column));
  const isClass = Array.from({ length: classCount }, (_, c) => labels.map((label) => label === c));
  return (weights) => {
    const perClass = columns.map((column, c) =>
      binaryAuc(column, isClass[c] as boolean[], { order: orders[c] as Uint32Array, weights }),
    );
    const defined = perClass.filter((auc) => !Number.isNaN(auc));
    const auc = defined.length > 0 ? defined.reduce((a, b) => a + b, 0) / defined.length : Number.NaN;
    return { auc, perClass };
  };
}

/** Macro one-vs-rest AUC of fixed scores (see `oneVsRest`). */
export function macroAuc(
  scores: readonly (readonly number[])[],
  labels: readonly number[],
  classCount: number,
): MulticlassAuc {
  return oneVsRest(scores, labels, classCount)();
}
