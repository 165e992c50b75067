/**
 * The leakage report as one self-contained HTML page: the table, the AUC of every secret
 * under every defence with its 95 % CI, and for each secret the cost of each defence
 * (bandwidth and latency overhead) against the AUC it leaves.
 */
import { GOAL, type LeakageResult } from "./result.js";

const COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf", "#7f7f7f"];

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

interface Frame {
  width: number;
  height: number;
  left: number;
  bottom: number;
  top: number;
  right: number;
}

const FRAME: Frame = { width: 720, height: 300, left: 56, bottom: 64, top: 20, right: 180 };

function axisY(frame: Frame, y: (v: number) => number, ticks: number[], label: string): string {
  const parts = ticks.map(
    (t) =>
      `<line x1="${frame.left}" x2="${frame.width - frame.right}" y1="${y(t)}" y2="${y(t)}" stroke="#eee"/>` +
      `<text x="${frame.left - 6}" y="${y(t) + 4}" text-anchor="end" font-size="11">${t.toFixed(2)}</text>`,
  );
  parts.push(
    `<text x="14" y="${(frame.top + frame.height - frame.bottom) / 2}" font-size="12" transform="rotate(-90 14 ${(frame.top + frame.height - frame.bottom) / 2})" text-anchor="middle">${escapeHtml(label)}</text>`,
  );
  return parts.join("");
}

/** AUC per secret, one bar per defence, with CI whiskers and the goal line. */
function aucChart(results: readonly LeakageResult[], defences: string[], scenarios: string[]): string {
  const f = FRAME;
  const plotW = f.width - f.left - f.right;
  const y = (v: number) => f.top + (1 - (v - 0.4) / 0.6) * (f.height - f.top - f.bottom);
  const group = plotW / Math.max(1, scenarios.length);
  const bar = (group * 0.8) / Math.max(1, defences.length);
  const parts = [axisY(f, y, [0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0], "ROC-AUC (stronger learner)")];
  scenarios.forEach((scenario, si) => {
    const x0 = f.left + si * group + group * 0.1;
    parts.push(
      `<text x="${x0 + (group * 0.8) / 2}" y="${f.height - f.bottom + 16}" text-anchor="middle" font-size="12">${escapeHtml(scenario)}</text>`,
    );
    defences.forEach((defence, di) => {
      const r = results.find((x) => x.scenario === scenario && x.defence === defence);
      if (!r) return;
      const x = x0 + di * bar;
      const colour = COLOURS[di % COLOURS.length];
      const top = y(Math.max(0.4, r.auc));
      parts.push(
        `<rect x="${x}" y="${top}" width="${bar * 0.9}" height="${y(0.4) - top}" fill="${colour}"><title>${escapeHtml(`${scenario} / ${defence}: AUC ${r.auc.toFixed(3)} [${r.ci[0].toFixed(3)}, ${r.ci[1].toFixed(3)}]`)}</title></rect>`,
        `<line x1="${x + bar * 0.45}" x2="${x + bar * 0.45}" y1="${y(Math.max(0.4, r.ci[0]))}" y2="${y(r.ci[1])}" stroke="#000"/>`,
      );
    });
  });
  parts.push(
    `<line x1="${f.left}" x2="${f.width - f.right}" y1="${y(GOAL.auc)}" y2="${y(GOAL.auc)}" stroke="#000" stroke-dasharray="4 3"/>`,
    `<text x="${f.width - f.right + 4}" y="${y(GOAL.auc) + 4}" font-size="11">goal ${GOAL.auc}</text>`,
  );
  defences.forEach((d, di) => {
    parts.push(
      `<rect x="${f.width - f.right + 8}" y="${f.top + 20 + di * 16}" width="10" height="10" fill="${COLOURS[di % COLOURS.length]}"/>`,
      `<text x="${f.width - f.right + 22}" y="${f.top + 29 + di * 16}" font-size="11">${escapeHtml(d)}</text>`,
    );
  });
  return `<svg width="${f.width}" height="${f.height}" role="img" aria-label="AUC per secret">${parts.join("")}</svg>`;
}

/** Overhead (x) against AUC (y) for one secret: one point per defence, joined in overhead order. */
function costChart(
  results: readonly LeakageResult[],
  scenario: string,
  key: "bandwidth_overhead" | "latency_overhead",
): string {
  const f = { ...FRAME, height: 260, bottom: 44 };
  const mine = results.filter((r) => r.scenario === scenario).sort((a, b) => a[key] - b[key]);
  const maxX =
    Math.max(key === "bandwidth_overhead" ? GOAL.bandwidth : GOAL.latency, ...mine.map((r) => r[key])) *
      1.1 || 1;
  const x = (v: number) => f.left + (Math.max(0, v) / maxX) * (f.width - f.left - f.right);
  const y = (v: number) => f.top + (1 - (v - 0.4) / 0.6) * (f.height - f.top - f.bottom);
  const limit = key === "bandwidth_overhead" ? GOAL.bandwidth : GOAL.latency;
  const parts = [axisY(f, y, [0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0], "AUC")];
  for (let i = 0; i <= 4; i++) {
    const v = (maxX * i) / 4;
    parts.push(
      `<text x="${x(v)}" y="${f.height - f.bottom + 14}" text-anchor="middle" font-size="11">+${(v * 100).toFixed(0)}%</text>`,
    );
  }
  parts.push(
    `<text x="${(f.left + f.width - f.right) / 2}" y="${f.height - 8}" text-anchor="middle" font-size="12">${key === "bandwidth_overhead" ? "bandwidth overhead" : "median latency overhead"}</text>`,
    `<rect x="${f.left}" y="${y(GOAL.auc)}" width="${x(limit) - f.left}" height="${y(0.4) - y(GOAL.auc)}" fill="#2ca02c" opacity="0.08"/>`,
    `<polyline fill="none" stroke="#555" points="${mine.map((r) => `${x(r[key])},${y(r.auc)}`).join(" ")}"/>`,
  );
  mine.forEach((r) => {
    parts.push(
      `<line x1="${x(r[key])}" x2="${x(r[key])}" y1="${y(Math.max(0.4, r.ci[0]))}" y2="${y(r.ci[1])}" stroke="#999"/>`,
      `<circle cx="${x(r[key])}" cy="${y(r.auc)}" r="4" fill="${r.meets_goal ? "#2ca02c" : "#d62728"}"><title>${escapeHtml(`${r.defence}: AUC ${r.auc.toFixed(3)}, +${(r[key] * 100).toFixed(0)}%`)}</title></circle>`,
      `<text x="${x(r[key]) + 6}" y="${y(r.auc) - 6}" font-size="10">${escapeHtml(r.defence)}</text>`,
    );
  });
  return `<svg width="${f.width}" height="${f.height}" role="img" aria-label="${escapeHtml(`${scenario} ${key}`)}">${parts.join("")}</svg>`;
}

export function reportHtml(results: readonly LeakageResult[], meta: Record<string, string | number>): string {
  const scenarios = [...new Set(results.map((r) => r.scenario))];
  const defences = [...new Set(results.map((r) => r.defence))];
  const rows = results
    .map(
      (r) =>
        `<tr class="${r.meets_goal ? "met" : ""}"><td>${escapeHtml(r.scenario)}</td><td>${escapeHtml(r.defence)}</td><td>${r.traces}</td>` +
        `<td>${r.knn_auc.toFixed(3)} [${r.knn_ci[0].toFixed(3)}, ${r.knn_ci[1].toFixed(3)}]</td>` +
        `<td>${r.xgboost_auc === undefined ? "–" : `${r.xgboost_auc.toFixed(3)} [${(r.xgboost_ci as [number, number])[0].toFixed(3)}, ${(r.xgboost_ci as [number, number])[1].toFixed(3)}]`}</td>` +
        `<td>${(r.bytes_per_action / 1024).toFixed(1)} KiB (${r.bandwidth_overhead >= 0 ? "+" : ""}${(r.bandwidth_overhead * 100).toFixed(0)}%)</td>` +
        `<td>${r.median_latency_ms.toFixed(1)} ms (${r.latency_overhead >= 0 ? "+" : ""}${(r.latency_overhead * 100).toFixed(0)}%)</td>` +
        `<td>${r.meets_goal ? "met" : "–"}</td></tr>`,
    )
    .join("\n");
  const secrets = scenarios
    .map(
      (s) =>
        `<li><b>${escapeHtml(s)}</b>: ${escapeHtml(results.find((r) => r.scenario === s)?.secret ?? "")}</li>`,
    )
    .join("");
  const defenceList = defences
    .map(
      (d) =>
        `<li><b>${escapeHtml(d)}</b>: ${escapeHtml(results.find((r) => r.defence === d)?.defence_description ?? "")}</li>`,
    )
    .join("");
  const costs = scenarios
    .map(
      (s) =>
        `<h3>${escapeHtml(s)}</h3>${costChart(results, s, "bandwidth_overhead")}${costChart(results, s, "latency_overhead")}`,
    )
    .join("\n");
  const metaRows = Object.entries(meta)
    .map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(String(v))}</td></tr>`)
    .join("");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Omnigate traffic leakage report</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:24px;max-width:1100px;color:#222}
table{border-collapse:collapse;margin:12px 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left}
tr.met td{background:#eef8ee}th{background:#f6f6f6}svg{display:block;margin:8px 0 16px}
</style></head><body>
<h1>Traffic leakage report</h1>
<p>What an on-path observer of the TLS records learns about each secret, as ROC-AUC (macro one-vs-rest) of the
stronger of two learners trained on traces of other sessions, with 95&nbsp;% CIs from a bootstrap that resamples whole test sessions. 0.5 is chance.
Overheads are against the undefended run of the same secret in the same run. Goal: AUC ≤ ${GOAL.auc}, upper CI ≤ ${GOAL.ciHigh},
bandwidth ≤ +${GOAL.bandwidth * 100}&nbsp;%, latency ≤ +${GOAL.latency * 100}&nbsp;%. How to read it: docs/privacy.md.</p>
<table>${metaRows}</table>
<h2>Secrets</h2><ul>${secrets}</ul>
<h2>Defences</h2><ul>${defenceList}</ul>
<h2>Results</h2>
<table><thead><tr><th>secret</th><th>defence</th><th>traces</th><th>k-NN AUC [95% CI]</th><th>XGBoost AUC [95% CI]</th><th>bytes per action</th><th>median latency</th><th>goal</th></tr></thead>
<tbody>${rows}</tbody></table>
<h2>AUC per secret and defence</h2>
${aucChart(results, defences, scenarios)}
<h2>What each defence costs, against the AUC it leaves</h2>
<p>Green points meet the goal; the shaded box is where the goal lies.</p>
${costs}
</body></html>
`;
}
