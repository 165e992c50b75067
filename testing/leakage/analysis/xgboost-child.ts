/**
 * Child-process entry for xgboost.ts: takes one request over IPC, trains, predicts, answers and
 * exits. ml-xgboost stays in here because its wasm glue hijacks uncaughtException (exit code 7)
 * and leaves the wasm heap unusable after a C++ error, so each fit gets a fresh process.
 */
import { createRequire } from "node:module";
import type { XGBoostReply, XGBoostRequest } from "./xgboost.js";

/** The slice of ml-xgboost's class used here (the package ships no types). */
interface Booster {
  train(rows: number[][], labels: number[]): void;
  predict(rows: number[][]): (number | number[])[];
  free(): void;
}
type BoosterClass = new (options: Record<string, string | number>) => Booster;

process.once("message", (request) => void answer(request as XGBoostRequest));
// The parent went away (killed, crashed): nobody is waiting for an answer.
process.once("disconnect", () => process.exit(0));

async function answer(request: XGBoostRequest): Promise<void> {
  let reply: XGBoostReply;
  try {
    reply = { ok: true, probabilities: await fitAndPredict(request) };
  } catch (error) {
    reply = { ok: false, error: describe(error) };
  }
  process.send?.(reply, () => process.exit(0));
}

async function fitAndPredict(request: XGBoostRequest): Promise<number[][]> {
  const { train, labels, test, classCount } = request;
  validate(request);
  // CommonJS module whose export is a Promise of the class (it waits for the wasm to instantiate).
  const XGBoost = (await createRequire(import.meta.url)("ml-xgboost")) as BoosterClass;
  const booster = new XGBoost({ ...request.booster, iterations: request.rounds });
  try {
    booster.train(train, labels);
    if (test.length === 0) return [];
    return booster.predict(test).map((prediction) => {
      // binary:logistic gives P(class 1); multi:softprob gives the whole distribution.
      const probabilities = typeof prediction === "number" ? [1 - prediction, prediction] : prediction;
      if (probabilities.length !== classCount) {
        throw new Error(`prediction has ${probabilities.length} classes, expected ${classCount}`);
      }
      return probabilities;
    });
  } finally {
    booster.free();
  }
}

// Bad shapes reach the wasm as raw buffers and would read past them, so they are refused here.
function validate({ train, labels, test, classCount, rounds }: XGBoostRequest): void {
  if (!(Number.isInteger(classCount) && classCount >= 2))
    throw new Error(`classCount ${classCount} is not ≥ 2`);
  if (!(Number.isInteger(rounds) && rounds >= 1))
    throw new Error(`rounds ${rounds} is not a positive integer`);
  if (train.length === 0) throw new Error("no training rows");
  if (labels.length !== train.length) {
    throw new Error(`label count ${labels.length} does not match training row count ${train.length}`);
  }
  const width = train[0]?.length ?? 0;
  if (width === 0) throw new Error("training rows have no features");
  for (const [name, rows] of [
    ["training", train],
    ["test", test],
  ] as const) {
    rows.forEach((row, i) => {
      if (row.length !== width)
        throw new Error(`${name} row ${i} has ${row.length} features, expected ${width}`);
    });
  }
  labels.forEach((label, i) => {
    if (!(Number.isInteger(label) && label >= 0 && label < classCount)) {
      throw new Error(`label ${label} of training row ${i} is not a class index in [0, ${classCount})`);
    }
  });
}

function describe(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  // A C++ exception inside the wasm surfaces as "<pointer> - Exception catching is disabled…";
  // XGBoost's own reason ("Check failed: …") is in the log the parent appends.
  return /Exception catching is disabled/.test(text)
    ? "XGBoost raised a C++ error (see its log below)"
    : text;
}
