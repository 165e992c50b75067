/**
 * The Promela models, checked exhaustively by spin (issue 17): `npm run check:models`; the
 * vitest test in testing/models runs the same checks.
 *
 * For each model and set of -D macros: `spin -a` writes pan.c in a temp dir, gcc compiles it,
 * and `./pan -a [-f] -N <claim>` checks one LTL claim at a time. The real models must pass
 * every claim; each planted bug (and the at-least-once negative claim) must be FOUND, so a
 * model that stopped exploring what it claims to would fail here too.
 *
 * Output: one progress line per check on stderr, one JSON line per check on stdout. Exit 1 if
 * any expectation fails, 2 if spin or gcc is missing. docs/model-checking.md explains it all.
 */
import { execFile } from "node:child_process";
import { copyFile, mkdtemp, rm } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const MODELS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "../specs/models");

export type Outcome = "pass" | "violation";

export interface ModelCheck {
  /** A file under specs/models. */
  model: string;
  /** -D macros for spin: planted bugs and bounds. */
  defines: string[];
  /** The `ltl` claim (pan -N). */
  claim: string;
  /** Weak fairness (pan -f): liveness claims need it. */
  fair: boolean;
  expect: Outcome;
  /** What the check shows, in words. */
  why: string;
}

export interface CheckResult extends ModelCheck {
  /** What pan reported; "incomplete" when the search stopped early (depth or memory). */
  found: Outcome | "incomplete";
  ok: boolean;
  errors: number;
  statesStored: number;
  statesVisited: number;
  depth: number;
  /** The pan run alone, without spin -a and gcc (those are shared by the checks of a build). */
  seconds: number;
  /** pan's first error line, for a violation. */
  detail?: string;
}

const pass = (model: string, claim: string, why: string, fair = false): ModelCheck => ({
  model,
  defines: [],
  claim,
  fair,
  expect: "pass",
  why,
});

const found = (model: string, defines: string[], claim: string, why: string, fair = false): ModelCheck => ({
  model,
  defines,
  claim,
  fair,
  expect: "violation",
  why,
});

export const MODEL_CHECKS: readonly ModelCheck[] = [
  pass("mailbox.pml", "bounded", "a message is delivered at most MAXD times"),
  pass("mailbox.pml", "dlq_after_max", "a message is dead-lettered only after its MAXD-th delivery"),
  pass("mailbox.pml", "absorbing", "ACKED and DLQ are never left"),
  pass("mailbox.pml", "stale_refused", "an ACK or NACK with a stale receipt never takes effect"),
  pass("mailbox.pml", "dedupe", "a retried SEND with the same idempotency key stores one message"),
  pass("mailbox.pml", "settles", "under weak fairness every message ends ACKED or DLQ", true),
  found("mailbox.pml", [], "processed_at_most_once", "at-least-once: a handler may run twice on one message"),
  found("mailbox.pml", ["BUG_STALE_ACK"], "stale_refused", "ACK that ignores the receipt's delivery"),
  found("mailbox.pml", ["BUG_NO_DLQ"], "bounded", "no dead-lettering: deliveries exceed MAXD"),
  found("mailbox.pml", ["BUG_NO_DLQ"], "settles", "no dead-lettering: a message can cycle forever", true),
  found("mailbox.pml", ["BUG_NO_DEDUPE"], "dedupe", "SEND ignores the idempotency key"),
  pass("rewarder.pml", "paid_at_most_once", "a record is paid at most once"),
  pass("rewarder.pml", "invalid_never_paid", "a record with an invalid proof is never paid"),
  pass("rewarder.pml", "valid_paid", "under weak fairness every valid record is paid", true),
  found(
    "rewarder.pml",
    ["BUG_MARKER_AFTER_PAYOUT"],
    "paid_at_most_once",
    "payout and marker in two transactions: a record is paid twice",
  ),
  found(
    "rewarder.pml",
    ["MAXFAULT=3"],
    "valid_paid",
    "liveness needs fewer faults than MAXD: with as many, a valid record is dead-lettered unpaid",
    true,
  ),
];

/** spin or gcc is not installed. */
export class ToolMissingError extends Error {}

interface ProcessOutput {
  stdout: string;
  stderr: string;
  code: number;
}

function exec(file: string, args: string[], cwd: string, timeoutMs = 120_000): Promise<ProcessOutput> {
  return new Promise((resolvePromise, reject) => {
    execFile(file, args, { cwd, timeout: timeoutMs, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      if (error && (error as NodeJS.ErrnoException).code === "ENOENT") {
        reject(
          new ToolMissingError(`${file} is not installed: install Debian's spin and gcc (.ci/run does)`),
        );
        return;
      }
      if (error?.killed) {
        reject(new Error(`${file} ${args.join(" ")} timed out after ${timeoutMs} ms`));
        return;
      }
      const code = typeof error?.code === "number" ? error.code : error ? 1 : 0;
      resolvePromise({ stdout, stderr, code });
    });
  });
}

/** Fails with ToolMissingError, naming the package, when spin or gcc cannot run. */
export async function requireTools(): Promise<void> {
  await exec("spin", ["-V"], tmpdir()).catch((error: unknown) => {
    if (error instanceof ToolMissingError)
      throw new ToolMissingError("spin is not installed: install Debian's spin (.ci/run does)");
    throw error;
  });
  await exec("gcc", ["--version"], tmpdir()).catch((error: unknown) => {
    if (error instanceof ToolMissingError)
      throw new ToolMissingError("gcc is not installed: install Debian's gcc (.ci/run does)");
    throw error;
  });
}

export interface PanReport {
  errors: number;
  statesStored: number;
  statesVisited: number;
  depth: number;
  /** False when pan hit its depth limit or ran out of memory: a "pass" would mean nothing. */
  complete: boolean;
  detail?: string;
}

/** Reads pan's summary. Throws when the output is not a pan run at all. */
export function parsePanOutput(text: string): PanReport {
  const summary = /depth reached (\d+), errors: (\d+)/.exec(text);
  const stored = /([\d.e+]+) states, stored(?: \(([\d.e+]+) visited\))?/.exec(text);
  if (!summary?.[1] || !summary[2] || !stored?.[1])
    throw new Error(`not a pan report:\n${text.slice(0, 2000)}`);
  const statesStored = Number(stored[1]);
  const detail = /^pan:\d+: (.+)$/m.exec(text)?.[1];
  return {
    depth: Number(summary[1]),
    errors: Number(summary[2]),
    statesStored,
    statesVisited: stored[2] ? Number(stored[2]) : statesStored,
    complete: !/max search depth too small|out of memory|search not completed/i.test(text),
    ...(detail ? { detail } : {}),
  };
}

function buildKey(check: ModelCheck): string {
  return [check.model, ...check.defines].join(" -D");
}

/** spin -a and gcc for one model and set of macros, in a fresh temp dir. */
async function buildPan(model: string, defines: string[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "omnigate-pan-"));
  await copyFile(join(MODELS_DIR, model), join(dir, model));
  const spin = await exec("spin", [...defines.map((d) => `-D${d}`), "-a", model], dir);
  if (spin.code !== 0) throw new Error(`spin -a ${model} failed:\n${spin.stdout}${spin.stderr}`);
  // NFAIR: room for weak fairness with 4+ processes; -w: pan.c's generated array indexing
  // trips gcc's bounds heuristics, harmless.
  const gcc = await exec("gcc", ["-O2", "-w", "-DNFAIR=3", "-o", "pan", "pan.c"], dir);
  if (gcc.code !== 0) throw new Error(`gcc pan.c for ${model} failed:\n${gcc.stderr}`);
  return dir;
}

async function runPan(dir: string, check: ModelCheck): Promise<CheckResult> {
  // -w20: a 2^20-slot hash table is plenty here and far quicker to allocate than the default
  // 2^24 (most checks end in well under a second); -n: no list of unreached code.
  const args = ["-a", ...(check.fair ? ["-f"] : []), "-n", "-w20", "-N", check.claim];
  const started = performance.now();
  const out = await exec("./pan", args, dir);
  const seconds = (performance.now() - started) / 1000;
  const report = parsePanOutput(out.stdout + out.stderr);
  const outcome: CheckResult["found"] =
    report.errors > 0 ? "violation" : report.complete ? "pass" : "incomplete";
  return {
    ...check,
    found: outcome,
    ok: outcome === check.expect,
    errors: report.errors,
    statesStored: report.statesStored,
    statesVisited: report.statesVisited,
    depth: report.depth,
    seconds: Math.round(seconds * 100) / 100,
    ...(report.detail ? { detail: report.detail } : {}),
  };
}

export interface RunOptions {
  checks?: readonly ModelCheck[];
  /** Called as each check finishes. */
  onResult?: (result: CheckResult) => void;
  /** Builds compiled at once (default: the cores, at most 2). */
  parallel?: number;
}

/** Runs the checks, one build per model and macro set; results in the order of `checks`. */
export async function runModelChecks(options: RunOptions = {}): Promise<CheckResult[]> {
  const checks = options.checks ?? MODEL_CHECKS;
  await requireTools();
  const groups = new Map<string, ModelCheck[]>();
  for (const check of checks) {
    const key = buildKey(check);
    groups.set(key, [...(groups.get(key) ?? []), check]);
  }
  const results = new Map<ModelCheck, CheckResult>();
  const queue = [...groups.values()];
  const worker = async (): Promise<void> => {
    for (let group = queue.shift(); group; group = queue.shift()) {
      const first = group[0] as ModelCheck;
      const dir = await buildPan(first.model, first.defines);
      try {
        for (const check of group) {
          const result = await runPan(dir, check);
          results.set(check, result);
          options.onResult?.(result);
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
  };
  const parallel = options.parallel ?? Math.min(2, availableParallelism());
  await Promise.all(Array.from({ length: Math.max(1, parallel) }, worker));
  return checks.map((check) => results.get(check) as CheckResult);
}

function describe(result: CheckResult): string {
  const macros = result.defines.map((d) => ` -D${d}`).join("");
  const verdict = result.ok
    ? result.expect === "pass"
      ? "passes"
      : "violation found, as expected"
    : `EXPECTED ${result.expect === "pass" ? "a pass" : "a violation"}, got ${result.found}`;
  const states =
    result.statesVisited > result.statesStored
      ? `${result.statesStored} states stored, ${result.statesVisited} visited`
      : `${result.statesStored} states`;
  return `check-models: ${result.model}${macros} ${result.claim}${result.fair ? " (fair)" : ""}: ${verdict} (${states}, depth ${result.depth}, ${result.seconds} s)`;
}

async function main(): Promise<void> {
  const started = performance.now();
  try {
    const results = await runModelChecks({
      onResult: (result) => {
        process.stderr.write(`${describe(result)}\n`);
        process.stdout.write(`${JSON.stringify(result)}\n`);
      },
    });
    const failed = results.filter((r) => !r.ok);
    const total = ((performance.now() - started) / 1000).toFixed(1);
    process.stderr.write(
      `check-models: ${results.length - failed.length}/${results.length} checks as expected in ${total} s\n`,
    );
    if (failed.length > 0) process.exitCode = 1;
  } catch (error) {
    process.stderr.write(`check-models: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = error instanceof ToolMissingError ? 2 : 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
