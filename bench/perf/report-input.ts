/**
 * What the report is drawn from, read back from the rig's JSON lines (DIR/results.jsonl, or
 * the lines of a run in progress): the start line, each bench's raw lines (tagged with
 * `perf_bench` and `perf_round`), the `run`, `gate` and `summary` lines. The live run and
 * `--redraw` both go through here, so a report redrawn from the file is the one the run wrote.
 */
import type { GateResult } from "./gate.js";
import type { BenchLine } from "./runner.js";

export interface RunInfo {
  name: string;
  round: number;
  args: readonly string[];
  exitCode: number | null;
  seconds: number;
}

export interface ReportInput {
  generatedAt: Date;
  mode: string;
  repeat: number;
  defaultMargin: number;
  baselineFile: string;
  runs: readonly RunInfo[];
  results: readonly GateResult[];
  /** The benches' own lines, each with `perf_bench` (the rig's name of the run) and `perf_round`. */
  lines: readonly BenchLine[];
}

export function reportInputOf(jsonl: readonly Record<string, unknown>[], generatedAt?: Date): ReportInput {
  const start = jsonl.find((l) => l.perf === "start") ?? {};
  const summary = jsonl.find((l) => l.perf === "summary") ?? {};
  const str = (v: unknown, fallback: string) => (typeof v === "string" ? v : fallback);
  const num = (v: unknown, fallback: number) => (typeof v === "number" ? v : fallback);
  return {
    generatedAt:
      generatedAt ?? new Date(str(summary.finished_at, str(start.started_at, "1970-01-01T00:00:00Z"))),
    mode: str(start.mode, str(summary.mode, "?")),
    repeat: num(start.repeat, num(summary.repeat, 1)),
    defaultMargin: num(start.margin, 0.25),
    baselineFile: str(start.baseline_file, "?"),
    runs: jsonl
      .filter((l) => l.perf === "run")
      .map((l) => ({
        name: str(l.bench, "?"),
        round: num(l.round, 1),
        args: Array.isArray(l.args) ? l.args.map(String) : [],
        exitCode: typeof l.exit_code === "number" ? l.exit_code : null,
        seconds: num(l.seconds, 0),
      })),
    results: jsonl.filter((l) => l.perf === "gate").map(({ perf: _, ...r }) => r as unknown as GateResult),
    lines: jsonl.filter((l) => l.perf === undefined && typeof l.perf_bench === "string"),
  };
}
