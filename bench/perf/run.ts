/**
 * The perf rig: runs every benchmark that reports a same-run ratio, normalises the ratios into
 * metrics, compares them with the committed baseline and writes JSON lines and an HTML report.
 *
 *   npm run perf [-- --short] [--repeat N] [--gate] [--margin 0.25] [--only oap-echo,storage]
 *                [--out DIR] [--baseline FILE] [--write-baseline [--note TEXT]]
 *   npm run perf -- --redraw DIR/results.jsonl [--out DIR2]
 *
 * stdout (and DIR/results.jsonl): a `{"perf":"start",…}` line, every bench's JSON lines as
 * they arrive (each with `perf_bench` and `perf_round` added), a `{"perf":"run",…}` line as
 * each bench ends, then one `{"perf":"gate",…}` line per metric and a `{"perf":"summary",…}`
 * line: everything the report is drawn from, so `--redraw` draws it again from the file alone
 * (into the file's directory, or --out) without running anything. stderr: the benches'
 * progress, prefixed with their name. With --repeat N the benches run N times in turn and each
 * metric's ratio is the median of its N ratios. Exit 1 when a bench failed, or with --gate when a
 * metric regressed; 2 on bad flags.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { DEFAULT_BASELINE_FILE, readBaseline, updatedBaseline, writeBaseline } from "./baseline.js";
import { type BenchSpec, selectBenches } from "./benches.js";
import { gate } from "./gate.js";
import { type Metric, medianByKey, metricsOf } from "./normalise.js";
import { reportHtml } from "./report-html.js";
import { reportInputOf } from "./report-input.js";
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
    redraw: { type: "string" },
  },
});
if (args.redraw !== undefined) {
  const file = resolve(args.redraw);
  const lines = readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  const dir = resolve(args.out ?? dirname(file));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "report.html"), reportHtml(reportInputOf(lines)));
  process.stderr.write(`perf: report in ${join(dir, "report.html")}\n`);
  process.exit(0);
}
const repeat = Number(args.repeat);
if (!(Number.isInteger(repeat) && repeat >= 1 && repeat <= 20))
  fail("--repeat must be a whole number from 1 to 20");
const margin = Number(args.margin);
if (!(margin >= 0 && margin < 1)) fail("--margin must be in [0, 1), e.g. 0.25 for 25 %");
let benches: BenchSpec[];
try {
  benches = selectBenches(args.only, args.short);
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
  const jsonl: Record<string, unknown>[] = [];
  const out = (line: Record<string, unknown>): void => {
    jsonl.push(line);
    process.stdout.write(`${JSON.stringify(line)}\n`);
  };
  out({
    perf: "start",
    started_at: new Date().toISOString(),
    mode,
    repeat,
    margin,
    baseline_file: baselineFile,
    benches: benches.map((b) => b.name),
  });

  const runs: BenchRun[] = [];
  const repeats: Metric[] = [];
  // Rounds of every bench in turn, so a slow spell of the machine touches each bench alike.
  for (let round = 1; round <= repeat; round++) {
    for (const spec of benches) {
      const of = repeat > 1 ? ` round ${round}/${repeat}` : "";
      process.stderr.write(
        `perf: ${spec.name} (${mode}${of}): ${spec.script} ${(args.short ? spec.short : spec.full).join(" ")}\n`,
      );
      const run = await runBench(spec, {
        short: args.short,
        onLine: (line) => out({ ...line, perf_bench: spec.name, perf_round: round }),
      });
      runs.push(run);
      out({
        perf: "run",
        bench: run.name,
        round,
        args: run.args,
        exit_code: run.exitCode,
        seconds: Math.round(run.seconds * 10) / 10,
      });
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
    finished_at: new Date().toISOString(),
    mode,
    repeat,
    gate: args.gate ? (regressed + failedBenches.length === 0 ? "pass" : "fail") : "off",
    ok: count("ok"),
    regressed,
    new: count("new"),
    info: count("info"),
    missing: count("missing"),
    failed_benches: failedBenches,
  });

  const generatedAt = new Date();
  writeFileSync(join(outDir, "results.jsonl"), `${jsonl.map((line) => JSON.stringify(line)).join("\n")}\n`);
  writeFileSync(join(outDir, "report.html"), reportHtml(reportInputOf(jsonl, generatedAt)));
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
