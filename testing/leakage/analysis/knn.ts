/**
 * Brute-force k-nearest neighbours over z-scored features, returning a score per class (the
 * distance-weighted share of the k neighbours' votes) rather than a bare label, so ROC-AUC can
 * rank test traces. Brute force is fast enough at harness sizes (a few thousand traces).
 */

/** Training-set mean and inverse standard deviation per feature (0 for a constant feature, which is dropped). */
export interface Standardizer {
  mean: Float64Array;
  inverseStd: Float64Array;
}

export function fitStandardizer(rows: readonly (readonly number[])[]): Standardizer {
  const width = rows[0]?.length ?? 0;
  const mean = new Float64Array(width);
  const inverseStd = new Float64Array(width);
  for (const row of rows) for (let j = 0; j < width; j++) mean[j] = (mean[j] as number) + (row[j] as number);
  for (let j = 0; j < width; j++) mean[j] = (mean[j] as number) / Math.max(1, rows.length);
  const variance = new Float64Array(width);
  for (const row of rows) {
    for (let j = 0; j < width; j++)
      variance[j] = (variance[j] as number) + ((row[j] as number) - (mean[j] as number)) ** 2;
  }
  for (let j = 0; j < width; j++) {
    const std = Math.sqrt((variance[j] as number) / Math.max(1, rows.length));
    inverseStd[j] = std > 1e-12 ? 1 / std : 0;
  }
  return { mean, inverseStd };
}

/**
 * Default k = round(√n_train): the usual rule of thumb, consistent as n grows (k → ∞, k/n → 0).
 * A large k matters here: the harness hunts weak leaks (AUC 0.55–0.65), where one or three
 * neighbours give noisy, coarse scores; √n averages out noise yet stays local (k = 45 at 2,000
 * training traces). Distance weighting keeps strong, tight fingerprints recognisable.
 */
export function defaultK(trainCount: number): number {
  return Math.max(1, Math.min(trainCount, Math.round(Math.sqrt(trainCount))));
}

/** Keeps near-duplicate neighbours (distance 0) from getting an infinite weight. */
const DISTANCE_FLOOR = 1e-6;

/**
 * `scores[i][c]`: the share of test row i's k nearest training rows' weight (1 / distance) that
 * belongs to class c; each row sums to 1. `trainLabels` are class indices in [0, classCount).
 */
export function knnScores(
  train: readonly (readonly number[])[],
  trainLabels: readonly number[],
  test: readonly (readonly number[])[],
  classCount: number,
  k: number = defaultK(train.length),
): number[][] {
  if (train.length === 0) throw new RangeError("k-NN needs at least one training row");
  if (trainLabels.length !== train.length) {
    throw new RangeError(`${train.length} training rows but ${trainLabels.length} labels`);
  }
  if (!(Number.isInteger(k) && k >= 1)) throw new RangeError("k must be a positive integer");
  for (const label of trainLabels) {
    if (!(Number.isInteger(label) && label >= 0 && label < classCount)) {
      throw new RangeError(`label ${label} is not a class index in [0, ${classCount})`);
    }
  }
  const neighbours = Math.min(k, train.length);
  const width = train[0]?.length ?? 0;
  const { mean, inverseStd } = fitStandardizer(train);
  const standardize = (row: readonly number[], into: Float64Array, offset: number) => {
    if (row.length !== width) throw new RangeError(`row has ${row.length} features, expected ${width}`);
    for (let j = 0; j < width; j++) {
      into[offset + j] = ((row[j] as number) - (mean[j] as number)) * (inverseStd[j] as number);
    }
  };
  const points = new Float64Array(train.length * width);
  for (const [i, row] of train.entries()) standardize(row, points, i * width);

  const query = new Float64Array(width);
  const bestDistance = new Float64Array(neighbours);
  const bestIndex = new Int32Array(neighbours);
  return test.map((row) => {
    standardize(row, query, 0);
    // Insertion into a sorted list of the k nearest so far (k is small next to n).
    let found = 0;
    for (let i = 0; i < train.length; i++) {
      let distance = 0;
      const base = i * width;
      for (let j = 0; j < width; j++) {
        const delta = (points[base + j] as number) - (query[j] as number);
        distance += delta * delta;
      }
      if (found === neighbours && distance >= (bestDistance[neighbours - 1] as number)) continue;
      let slot = found < neighbours ? found++ : neighbours - 1;
      while (slot > 0 && (bestDistance[slot - 1] as number) > distance) {
        bestDistance[slot] = bestDistance[slot - 1] as number;
        bestIndex[slot] = bestIndex[slot - 1] as number;
        slot--;
      }
      bestDistance[slot] = distance;
      bestIndex[slot] = i;
    }
    const votes = new Array<number>(classCount).fill(0);
    let total = 0;
    for (let n = 0; n < found; n++) {
      const weight = 1 / (Math.sqrt(bestDistance[n] as number) + DISTANCE_FLOOR);
      const label = trainLabels[bestIndex[n] as number] as number;
      votes[label] = (votes[label] as number) + weight;
      total += weight;
    }
    return votes.map((vote) => vote / total);
  });
}
