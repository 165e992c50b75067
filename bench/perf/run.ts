/**
 * The perf rig: runs every benchmark that reports a same-run ratio, normalises the ratios into
 * metrics, compares them with the committed baseline and writes JSON lines and an HTML report.
 *
 *   npm run perf [-- --short] [--repeat N] [--gate] [--margin 0.25] [--only oap-echo,storage]
 *                [--out DIR] [--baseline FILE] [--write-baseline [--note TEXT]]
 *
 * stdout (and DIR/results.jsonl): every bench's JSON lines as they arrive, then one
 * `{"perf":"gate",…}` line per metric and a `{"perf":"summary",…}` line. stderr: the benches'
 * progress, prefixed with their name. With --repeat N the benches run N times in turn and each
 * metric's ratio is the median of its N ratios. Exit 1 when a bench failed, or with --gate when a
 * metric regressed; 2 on bad flags.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { DEFAULT_BASELINE_FILE, readBaseline, updatedBaseline, writeBaseline } from "./baseline.js";
import { type BenchSpec, selectBenches } from "./benches.js";
import { gate } from "./gate.js";
import { type Metric, medianByKey, metricsOf } from "./normalise.js";
import { reportHtml } from "./report-html.js";
import { type BenchRun, runBench, stopBenches } from "./runner.js";

/** Git-ignored: a run by hand must not leave files to commit (committed reports go under bench/reports/ by --out). */
const DEFAULT_OUT = fileURLToPath(new URL("../../perf-report", import.meta.url));

function fail(message: string): never {
  process.stderr.write(`perf: ${message}\n`);
  process.exit(2);
}

const { values: args } = parseArgs({
  options: {
    short: { type: "boolean", default: false },
    repeat: { type: "string", default: "1" },
    gate: { type: "boolean", default: false },
    margin: { type: "string", default: "0.25" },
    only: { type: "string" },
    out: { type: "string" },
    baseline: { type: "string" },
    "write-baseline": { type: "boolean", default: false },
    note: { type: "string" },
  },
});
const repeat = Number(args.repeat);
if (!(Number.isInteger(repeat) && repeat >= 1 && repeat <= 20))
  fail("--repeat must be a whole number from 1 to 20");
const margin = Number(args.margin);
if (!(margin >= 0 && margin < 1)) fail("--margin must be in [0, 1), e.g. 0.25 for 25 %");
let benches: BenchSpec[];
try {
  benches = selectBenches(args.only);
} catch (error) {
  fail(`--only: ${(error as Error).message}`);
}
const outDir = resolve(args.out ?? DEFAULT_OUT);
const baselineFile = resolve(args.baseline ?? DEFAULT_BASELINE_FILE);
const mode = args.short ? "short" : "full";

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    stopBenches();
    process.exit(130);
  });
}

async function main(): Promise<number> {
  const baseline = readBaseline(baselineFile);
  mkdirSync(outDir, { recursive: true });
  const jsonl: string[] = [];
  const out = (line: Record<string, unknown>): void => {
    const text = JSON.stringify(line);
    jsonl.push(text);
    process.stdout.write(`${text}\n`);
  };

  const runs: BenchRun[] = [];
  const repeats: Metric[] = [];
  // Rounds of every bench in turn, so a slow spell of the machine touches each bench alike.
  for (let round = 1; round <= repeat; round++) {
    for (const spec of benches) {
      const of = repeat > 1 ? ` round ${round}/${repeat}` : "";
      process.stderr.write(
        `perf: ${spec.name} (${mode}${of}): ${spec.script} ${(args.short ? spec.short : spec.full).join(" ")}\n`,
      );
      const run = await runBench(spec, { short: args.short, onLine: out });
      runs.push(run);
      repeats.push(...metricsOf(run));
      process.stderr.write(
        `perf: ${spec.name} ${run.exitCode === 0 ? "done" : `FAILED (exit ${run.exitCode})`} in ${run.seconds.toFixed(1)} s\n`,
      );
    }
  }
  const metrics = medianByKey(repeats);

  const results = gate(
    metrics,
    baseline,
    margin,
    // A bench that failed did not run for the purpose of `missing`: its failure is reported.
    [...new Set(runs.filter((r) => r.exitCode === 0).map((r) => r.name))],
  );
  for (const r of results) out({ perf: "gate", ...r });
  const count = (verdict: string) => results.filter((r) => r.verdict === verdict).length;
  const failedBenches = [...new Set(runs.filter((r) => r.exitCode !== 0).map((r) => r.name))];
  const regressed = count("regressed");
  out({
    perf: "summary",
    mode,
    repeat,
    gate: args.gate ? (regressed + failedBenches.length === 0 ? "pass" : "fail") : "off",
    ok: count("ok"),
    regressed,
    new: count("new"),
    missing: count("missing"),
    failed_benches: failedBenches,
  });

  writeFileSync(join(outDir, "results.jsonl"), `${jsonl.join("\n")}\n`);
  const generatedAt = new Date();
  writeFileSync(
    join(outDir, "report.html"),
    reportHtml({ generatedAt, mode, defaultMargin: margin, baselineFile, runs, results }),
  );
  for (const r of results.filter((x) => x.verdict !== "ok")) {
    process.stderr.write(`perf: ${r.verdict}: ${r.key} ${r.ratio ?? "—"} (baseline ${r.baseline ?? "—"})\n`);
  }
  process.stderr.write(`perf: report in ${join(outDir, "report.html")}\n`);

  if (args["write-baseline"]) {
    if (failedBenches.length > 0) {
      process.stderr.write(`perf: not writing the baseline: ${failedBenches.join(", ")} failed\n`);
    } else {
      const note = args.note ?? `${mode} run`;
      writeBaseline(baselineFile, updatedBaseline(baseline, metrics, note, generatedAt));
      process.stderr.write(`perf: wrote ${metrics.length} metrics to ${baselineFile}\n`);
    }
  }
  if (failedBenches.length > 0) return 1;
  return args.gate && regressed > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `perf: failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    stopBenches();
    process.exit(1);
  },
);
