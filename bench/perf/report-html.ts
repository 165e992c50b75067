/**
 * The perf report as one self-contained HTML page (no external assets): what ran, a table of
 * every metric against its baseline, and a bar chart of ratio against baseline per metric.
 */
import type { GateResult, Verdict } from "./gate.js";

export interface ReportInput {
  generatedAt: Date;
  mode: "short" | "full";
  defaultMargin: number;
  baselineFile: string;
  runs: readonly { name: string; args: readonly string[]; exitCode: number | null; seconds: number }[];
  results: readonly GateResult[];
}

const COLOUR: Record<Verdict, string> = {
  ok: "#2ca02c",
  regressed: "#d62728",
  new: "#1f77b4",
  missing: "#7f7f7f",
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const fmt = (value: number | undefined, digits = 3): string =>
  value === undefined ? "—" : value.toFixed(digits);
const pct = (value: number | undefined): string =>
  value === undefined ? "—" : `${value >= 0 ? "+" : ""}${(value * 100).toFixed(1)} %`;

export function reportHtml(input: ReportInput): string {
  const e = escapeHtml;
  const runs = input.runs
    .map(
      (r) =>
        `<tr><td>${e(r.name)}</td><td><code>${e(r.args.join(" ") || "(defaults)")}</code></td>` +
        `<td>${r.exitCode === 0 ? "ok" : `<b class="regressed">exit ${e(String(r.exitCode))}</b>`}</td>` +
        `<td class="num">${r.seconds.toFixed(1)}</td></tr>`,
    )
    .join("\n");
  const rows = input.results
    .map(
      (r) =>
        `<tr><td><code>${e(r.key)}</code></td><td class="num">${fmt(r.ratio)}</td><td class="num">${fmt(r.baseline)}</td>` +
        `<td class="num">${pct(r.change)}</td><td class="num">${fmt(r.floor)}</td><td class="num">${r.margin === undefined ? "—" : `${Math.round(r.margin * 100)} %`}</td>` +
        `<td class="${r.verdict}">${r.verdict}</td></tr>`,
    )
    .join("\n");
  const regressed = input.results.filter((r) => r.verdict === "regressed").length;
  const failed = input.runs.filter((r) => r.exitCode !== 0).length;
  const summary =
    regressed + failed === 0
      ? `<p class="ok">No metric regressed.</p>`
      : `<p class="regressed">${regressed} metric(s) regressed, ${failed} bench(es) failed.</p>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Omnigate perf report</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
td, th { border: 1px solid #ddd; padding: 3px 8px; text-align: left; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
.ok { color: ${COLOUR.ok}; } .regressed { color: ${COLOUR.regressed}; font-weight: bold; }
.new { color: ${COLOUR.new}; } .missing { color: ${COLOUR.missing}; }
</style></head><body>
<h1>Omnigate perf report</h1>
<p>${e(input.generatedAt.toISOString())}, ${input.mode} run, default margin ${Math.round(input.defaultMargin * 100)} %,
baseline <code>${e(input.baselineFile)}</code>. Every ratio is a system's result over its floor measured in the same
run (higher is better); a metric regresses when it falls below baseline × (1 − margin).</p>
${summary}
<h2>Ratio against baseline</h2>
${chart(input.results)}
<h2>Metrics</h2>
<table><tr><th>metric</th><th>ratio</th><th>baseline</th><th>change</th><th>floor</th><th>margin</th><th>verdict</th></tr>
${rows}
</table>
<h2>Benches run</h2>
<table><tr><th>bench</th><th>arguments</th><th>result</th><th>seconds</th></tr>
${runs}
</table>
</body></html>
`;
}

/** One row per metric: a grey bar for the baseline, a coloured one for this run, a tick at the floor. */
function chart(results: readonly GateResult[]): string {
  const labelW = 360;
  const plotW = 440;
  const rowH = 34;
  const top = 24;
  const max = Math.max(1, ...results.flatMap((r) => [r.ratio ?? 0, r.baseline ?? 0])) * 1.1;
  const x = (v: number) => labelW + (v / max) * plotW;
  const height = top + results.length * rowH + 8;
  const parts: string[] = [];
  for (const t of ticks(max)) {
    parts.push(
      `<line x1="${x(t)}" x2="${x(t)}" y1="${top - 4}" y2="${height - 8}" stroke="#eee"/>`,
      `<text x="${x(t)}" y="${top - 8}" text-anchor="middle" font-size="11">${t.toFixed(1)}</text>`,
    );
  }
  results.forEach((r, i) => {
    const y = top + i * rowH;
    parts.push(
      `<text x="${labelW - 8}" y="${y + 20}" text-anchor="end" font-size="12">${escapeHtml(r.key)}</text>`,
    );
    if (r.baseline !== undefined) {
      parts.push(
        `<rect x="${labelW}" y="${y + 4}" width="${x(r.baseline) - labelW}" height="11" fill="#bbb"><title>baseline ${fmt(r.baseline)}</title></rect>`,
      );
    }
    if (r.ratio !== undefined) {
      parts.push(
        `<rect x="${labelW}" y="${y + 16}" width="${x(r.ratio) - labelW}" height="11" fill="${COLOUR[r.verdict]}"><title>${escapeHtml(`${r.key}: ${fmt(r.ratio)} (${r.verdict})`)}</title></rect>`,
      );
    }
    if (r.floor !== undefined) {
      parts.push(
        `<line x1="${x(r.floor)}" x2="${x(r.floor)}" y1="${y + 2}" y2="${y + 30}" stroke="#000" stroke-dasharray="3 2"><title>floor ${fmt(r.floor)}</title></line>`,
      );
    }
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${labelW + plotW + 20}" height="${height}" role="img" aria-label="ratio against baseline per metric">${parts.join("")}</svg>
<p><span style="color:#888">■</span> baseline, <span class="ok">■</span> this run (ok), <span class="regressed">■</span> regressed, <span class="new">■</span> new; the dashed tick is the floor.</p>`;
}

function ticks(max: number): number[] {
  const step = max > 4 ? 1 : max > 2 ? 0.5 : 0.25;
  const out: number[] = [];
  for (let t = 0; t <= max; t += step) out.push(t);
  return out;
}
