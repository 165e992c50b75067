/**
 * Gradient-boosted trees (ml-xgboost: XGBoost compiled to wasm) as the stronger learner. The wasm
 * glue installs a process-wide uncaughtException handler that exits with code 7 on any error, so
 * every fit runs in a throwaway child process (xgboost-child.ts): a failure there becomes a
 * rejected promise carrying the child's log, a stuck child is killed after a timeout, and this
 * process is never touched.
 */
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";

export interface XGBoostParams {
  /** Tree depth (default 5): enough for feature interactions without memorising small sets. */
  maxDepth?: number;
  /** Learning rate (default 0.15). */
  eta?: number;
  /** Boosting rounds (default 100; with eta 0.15 the loss has flattened by then on harness-sized sets). */
  rounds?: number;
  /** Rows sampled per tree (default 0.8). */
  subsample?: number;
  /** Features sampled per tree (default 0.8). */
  colsampleByTree?: number;
  /** Minimum hessian weight per leaf (default 1). */
  minChildWeight?: number;
  /** XGBoost's own seed (default 1): the row and column sampling repeat exactly. */
  seed?: number;
  /** Kill the child and reject after this long (default 10 minutes). */
  timeoutMs?: number;
  /** Raw XGBoost parameters, applied last (they override the above), e.g. `{ lambda: 2 }`. */
  extra?: Record<string, string | number>;
}

export const DEFAULT_XGBOOST_PARAMS: Required<Omit<XGBoostParams, "extra">> = {
  maxDepth: 5,
  eta: 0.15,
  rounds: 100,
  subsample: 0.8,
  colsampleByTree: 0.8,
  minChildWeight: 1,
  seed: 1,
  timeoutMs: 600_000,
};

/** What the parent sends the child (one request per child). */
export interface XGBoostRequest {
  train: number[][];
  /** Class index per training row, in [0, classCount). */
  labels: number[];
  test: number[][];
  classCount: number;
  rounds: number;
  /** XGBoost parameters, as XGBoost names them. */
  booster: Record<string, string | number>;
}

export type XGBoostReply = { ok: true; probabilities: number[][] } | { ok: false; error: string };

const CHILD_ENTRY = fileURLToPath(new URL("./xgboost-child.ts", import.meta.url));
const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
/** Lines the wasm glue always prints (it falls back from streaming compilation on file paths). */
const NOISE = [/wasm streaming compile failed/, /falling back to ArrayBuffer instantiation/];
const LOG_LINES_KEPT = 20;

/**
 * Trains on (train, labels) and returns per-class probabilities for each test row:
 * binary:logistic for two classes, multi:softprob for more.
 */
export function xgboostScores(
  train: number[][],
  labels: number[],
  test: number[][],
  classCount: number,
  params: XGBoostParams = {},
): Promise<number[][]> {
  const p = { ...DEFAULT_XGBOOST_PARAMS, ...params };
  const booster: Record<string, string | number> = {
    booster: "gbtree",
    objective: classCount > 2 ? "multi:softprob" : "binary:logistic",
    ...(classCount > 2 ? { num_class: classCount } : {}),
    max_depth: p.maxDepth,
    eta: p.eta,
    subsample: p.subsample,
    colsample_bytree: p.colsampleByTree,
    min_child_weight: p.minChildWeight,
    seed: p.seed,
    silent: 1,
    ...params.extra,
  };
  const request: XGBoostRequest = { train, labels, test, classCount, rounds: p.rounds, booster };
  return runChild(request, p.timeoutMs);
}

function runChild(request: XGBoostRequest, timeoutMs: number): Promise<number[][]> {
  return new Promise((resolve, reject) => {
    const child = fork(CHILD_ENTRY, [], {
      cwd: REPO_ROOT,
      execArgv: ["--conditions=source", "--import", "tsx"],
      serialization: "advanced",
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    });
    const log: string[] = [];
    const keepLines = (chunk: Buffer) => {
      for (const line of chunk.toString("utf8").split("\n")) {
        if (line.trim() === "" || NOISE.some((noise) => noise.test(line))) continue;
        log.push(line.length > 300 ? `${line.slice(0, 300)}…` : line);
        if (log.length > LOG_LINES_KEPT) log.shift();
      }
    };
    child.stdout?.on("data", keepLines);
    child.stderr?.on("data", keepLines);
    const withLog = (message: string) =>
      log.length > 0 ? `${message}\n  child log:\n    ${log.join("\n    ")}` : message;

    let settled = false;
    let failure: string | undefined;
    const settle = (outcome: { error: Error } | { value: number[][] }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if ("error" in outcome) {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
        reject(outcome.error);
      } else {
        resolve(outcome.value);
        // The child exits by itself after answering; make sure of it without holding this process open.
        setTimeout(() => {
          if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
        }, 5_000).unref();
      }
    };
    const timer = setTimeout(
      () =>
        settle({
          error: new Error(withLog(`xgboost child did not answer within ${timeoutMs} ms; killed it`)),
        }),
      timeoutMs,
    );

    child.on("message", (reply: XGBoostReply) => {
      if (reply.ok) settle({ value: reply.probabilities });
      else failure = reply.error; // reject on "close", once the child's last log lines are in
    });
    child.on("error", (error) =>
      settle({ error: new Error(withLog(`xgboost child failed: ${error.message}`)) }),
    );
    child.on("close", (code, signal) => {
      const message = failure
        ? `xgboost failed: ${failure}`
        : `xgboost child exited (${signal ?? `code ${code}`}) without an answer`;
      settle({ error: new Error(withLog(message)) });
    });
    child.send(request, (error) => {
      if (error)
        settle({ error: new Error(withLog(`could not send the xgboost request: ${error.message}`)) });
    });
  });
}
