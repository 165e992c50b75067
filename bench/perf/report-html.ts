/**
 * The perf report as one self-contained HTML page (inline SVG, no scripts, no external
 * assets): what ran, then per bench the ratio of each metric against its baseline (with a dot
 * per round) and, per configuration, the raw results behind the ratios: throughput per system,
 * latency percentiles per system, CPU µs per request per side and cost per operation, where
 * the bench reports them; then the table of every metric and of the bench runs. It is drawn
 * from the run's JSON lines alone (report-input.ts), so `--redraw` gives the same page.
 */
import type { GateResult } from "./gate.js";
import { metricsOf } from "./normalise.js";
import type { ReportInput } from "./report-input.js";
import { configGroups, type FieldClass } from "./report-samples.js";
import { escapeHtml, groupedBars, ratioChart, short, VERDICT_COLOUR } from "./report-svg.js";
import type { BenchLine } from "./runner.js";

export type { ReportInput } from "./report-input.js";
export { escapeHtml } from "./report-svg.js";

const fmt = (value: number | undefined): string => (value === undefined ? "—" : short(value));
const pct = (value: number | undefined): string =>
  value === undefined ? "—" : `${value >= 0 ? "+" : ""}${(value * 100).toFixed(1)} %`;

const UNIT: Record<string, string> = {
  rps: "requests/s",
  msgs_per_sec: "messages/s",
  rows_per_sec: "rows/s",
  per_second: "per s",
  mb_per_s: "MB/s",
  ns_per_request: "ns per request",
  median_ms: "ms (median of the bench's runs)",
};

const PLOTS: ReadonlyArray<[FieldClass, string, (fields: readonly string[]) => string]> = [
  ["throughput", "Throughput per system", (fs) => fs.map((f) => UNIT[f] ?? f).join(", ")],
  ["latency", "Latency percentiles per system", () => "ms"],
  [
    "cpu",
    "CPU µs per request, per side",
    (fs) => (fs.some((f) => f.endsWith("_per_msg")) ? "µs per message" : "µs per request"),
  ],
  ["cost", "Cost per operation", (fs) => fs.map((f) => UNIT[f] ?? f).join(", ")],
];

/** Each key's ratio in each round, recomputed from the raw comparison lines of that round. */
function roundRatios(lines: readonly BenchLine[]): Map<string, number[]> {
  const byRun = new Map<string, { name: string; lines: BenchLine[] }>();
  for (const line of lines) {
    const name = String(line.perf_bench);
    const id = `${name}\u0000${String(line.perf_round)}`;
    const run = byRun.get(id) ?? { name, lines: [] };
    run.lines.push(line);
    byRun.set(id, run);
  }
  const out = new Map<string, number[]>();
  for (const run of byRun.values()) {
    for (const m of metricsOf(run)) out.set(m.key, [...(out.get(m.key) ?? []), m.ratio]);
  }
  return out;
}

export function reportHtml(input: ReportInput): string {
  const e = escapeHtml;
  const runs = input.runs
    .map(
      (r) =>
        `<tr><td>${e(r.name)}</td><td class="num">${r.round}</td><td><code>${e(r.args.join(" ") || "(defaults)")}</code></td>` +
        `<td>${r.exitCode === 0 ? "ok" : `<b class="regressed">exit ${e(String(r.exitCode))}</b>`}</td>` +
        `<td class="num">${r.seconds.toFixed(1)}</td></tr>`,
    )
    .join("\n");
  const rows = input.results
    .map(
      (r) =>
        `<tr><td><code>${e(r.key)}</code></td><td>${r.higher_is_better === false ? "lower" : "higher"}</td><td class="num">${fmt(r.ratio)}</td><td class="num">${fmt(r.baseline)}</td>` +
        `<td class="num">${pct(r.change)}</td><td class="num">${fmt(r.limit)}</td><td class="num">${r.margin === undefined ? "—" : `${Math.round(r.margin * 100)} %`}</td>` +
        `<td class="${r.verdict}">${r.verdict}${r.beyond_limit ? " (beyond limit)" : ""}</td></tr>`,
    )
    .join("\n");
  const regressed = input.results.filter((r) => r.verdict === "regressed").length;
  const failed = input.runs.filter((r) => r.exitCode !== 0).length;
  const summary =
    regressed + failed === 0
      ? `<p class="ok">No metric regressed.</p>`
      : `<p class="regressed">${regressed} metric(s) regressed, ${failed} bench run(s) failed.</p>`;
  const rounds = roundRatios(input.lines);
  const groups = configGroups(input.lines);
  const benchNames = [
    ...new Set([
      ...input.runs.map((r) => r.name),
      ...input.results.map((r) => r.bench),
      ...groups.map((g) => g.bench),
    ]),
  ];
  const sections = benchNames.map((bench) => benchSection(bench, input.results, rounds, groups)).join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Omnigate perf report</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
td, th { border: 1px solid #ddd; padding: 3px 8px; text-align: left; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
.ok { color: ${VERDICT_COLOUR.ok}; } .regressed { color: ${VERDICT_COLOUR.regressed}; font-weight: bold; }
.new { color: ${VERDICT_COLOUR.new}; } .missing { color: ${VERDICT_COLOUR.missing}; } .info { color: ${VERDICT_COLOUR.info}; }
.plots { display: flex; flex-wrap: wrap; gap: 1.5em; align-items: flex-start; }
h3 { margin-bottom: 0.3em; }
</style></head><body>
<h1>Omnigate perf report</h1>
<p>${e(input.generatedAt.toISOString())}, ${e(input.mode)} run, ${input.repeat} round(s), default margin ${Math.round(input.defaultMargin * 100)} %,
baseline <code>${e(input.baselineFile)}</code>. Every ratio is a system's result over its floor measured in the same
run. A ratio marked ↑ is higher-is-better and regresses when it falls below baseline × (1 − margin); one marked ↓
(server CPU per request over the floor's) is lower-is-better and regresses when it rises above baseline ÷ (1 − margin).
Gated ratios are the median of the rounds; <code>info</code> metrics are reported, never gated.</p>
${summary}
${sections}
<h2>All metrics</h2>
<table><tr><th>metric</th><th>better</th><th>ratio</th><th>baseline</th><th>change</th><th>limit</th><th>margin</th><th>verdict</th></tr>
${rows}
</table>
<h2>Bench runs</h2>
<table><tr><th>bench</th><th>round</th><th>arguments</th><th>result</th><th>seconds</th></tr>
${runs}
</table>
</body></html>
`;
}

function benchSection(
  bench: string,
  allResults: readonly GateResult[],
  rounds: ReadonlyMap<string, number[]>,
  groups: ReturnType<typeof configGroups>,
): string {
  const e = escapeHtml;
  const results = allResults.filter((r) => r.bench === bench);
  const fresh = results.filter((r) => r.baseline === undefined);
  const parts = [`<h2 id="${e(bench)}">${e(bench)}</h2>`];
  if (results.length > 0) {
    parts.push("<h3>Ratio to floor, against the baseline</h3>", ratioChart(results, rounds));
    if (results.some((r) => r.baseline !== undefined)) {
      parts.push(
        `<p><small>Bar: this run's median ratio over the baseline's (green ok, red regressed, purple informational); dots: each round; solid line: the baseline; dashed: the limit.</small></p>`,
      );
    }
    if (fresh.length > 0) {
      parts.push(
        `<p>Without a baseline: ${fresh.map((r) => `<code>${e(r.key)}</code> ${fmt(r.ratio)}${r.higher_is_better === false ? " ↓" : ""}`).join(", ")}.</p>`,
      );
    }
  } else {
    parts.push("<p>No same-run ratio from this bench.</p>");
  }
  for (const group of groups.filter((g) => g.bench === bench)) {
    const plots: string[] = [];
    for (const [cls, title, unitOf] of PLOTS) {
      const rows = group.byClass[cls];
      if (!rows || rows.length === 0) continue;
      const fields = [...new Set(rows.flatMap((r) => r.series.map((s) => s.field)))];
      plots.push(`<div>${groupedBars(title, unitOf(fields), rows)}</div>`);
    }
    if (plots.length === 0) continue;
    parts.push(`<h3>${e(group.config || "results")}</h3>`, `<div class="plots">${plots.join("")}</div>`);
  }
  return parts.join("\n");
}
