/**
 * The page at `/privacy`: the dashboard's releases, rendered on the server as plain HTML with
 * inline CSS and SVG, no script and no external assets. App names come from the config and
 * the history file, so every text is escaped.
 */
import { formatAppProtoId } from "@omnigate/oap";
import type { HistoryEntry, ReleaseEntry } from "../privacy/release-log.js";
import type { PrivacySnapshot } from "../privacy/usage-releases.js";
import { escapeHtml } from "./html-escape.js";
import { barChart } from "./privacy-chart.js";

/** Nothing but inline styles: the page runs no script and loads nothing. */
export const PRIVACY_PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'";

export function privacyPage(s: PrivacySnapshot): string {
  const releases = s.releases.filter((e): e is ReleaseEntry => e.kind === "release");
  const apps = appColumns(releases);
  const tiles: Array<[string, string, string]> = [
    ["epsilon", "ε per release", s.epsilon_per_release],
    ["budget-spent", "budget spent (ε)", `${s.budget.spent} of ${s.budget.total}`],
    ["budget-remaining", "budget remaining (ε)", s.budget.remaining],
    ["contribution-cap", "contribution cap Δ (requests per tenant and period)", String(s.contribution_cap)],
    ["noise-scale", "noise scale Δ/ε", s.noise_scale],
    ["period", "period", `${s.period_seconds} s`],
  ];
  const notice = s.budget.exhausted
    ? `<p id="exhausted" class="notice">Budget exhausted, no further releases: ${escapeHtml(s.budget.spent)} of ${escapeHtml(s.budget.total)} spent, and a release spends ${escapeHtml(s.epsilon_per_release)}. The releases below stay published.</p>`
    : "";
  const rows = [...s.releases].reverse().map((entry) => historyRow(entry, apps));
  const table =
    rows.length === 0
      ? `<p id="no-releases">No release yet: the first comes when the open period ends, at ${escapeHtml(utc(s.open_period.end))}.</p>`
      : `<table id="releases"><thead><tr><th>period (UTC)</th><th>ε</th>${apps
          .map(
            (a) =>
              `<th class="num" data-app="${a.app}">${escapeHtml(a.name)}<br><small>${formatAppProtoId(a.app)}</small></th>`,
          )
          .join("")}</tr></thead>
<tbody>
${rows.join("\n")}
</tbody></table>`;
  const charts = apps.map((a) => {
    const points = releases.map((r) => ({
      label: period(r),
      value: r.counts.find((c) => c.app === a.app)?.count ?? 0,
    }));
    const title = `${a.name} (${formatAppProtoId(a.app)})`;
    return `<figure data-app="${a.app}"><figcaption>${escapeHtml(title)}: noisy requests per period</figcaption>
${barChart(`${title}: noisy requests per period, oldest first`, points)}
</figure>`;
  });
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Omnigate privacy dashboard</title>
<style>${STYLE}</style>
</head>
<body>
<header><h1>Privacy dashboard</h1><span id="status" class="badge ${s.budget.exhausted ? "exhausted" : "on"}">${escapeHtml(s.status)}</span></header>
<p>Requests served per app and period, released with differential privacy. Every count here is noisy. This page is the view to publish: the admin port's /metrics and /status hold exact counts, so keep the admin port itself private.</p>
${notice}
<section class="tiles">
${tiles.map(([id, label, value]) => `<div class="tile"><div class="label">${escapeHtml(label)}</div><div class="value" id="${id}">${escapeHtml(value)}</div></div>`).join("\n")}
</section>
<p>Mechanism: <span id="mechanism">${escapeHtml(s.mechanism)}</span>. Each release spends ε once for all its apps; a tenant is protected by ε-differential privacy per release and by the whole budget over all of them.</p>
<section><h2>Releases</h2>
${table}
</section>
${charts.length > 0 ? `<section><h2>Per app</h2>\n${charts.join("\n")}\n</section>` : ""}
<footer>Open period ${escapeHtml(period({ period_start: s.open_period.start, period_end: s.open_period.end }))} · <a href="privacy.json">privacy.json</a> · <a href="status">status</a></footer>
</body>
</html>
`;
}

/** Every app in the releases shown, by app_proto_id, with its latest name. */
function appColumns(releases: readonly ReleaseEntry[]): Array<{ app: number; name: string }> {
  const names = new Map<number, string>();
  for (const release of releases) for (const c of release.counts) names.set(c.app, c.name);
  return [...names].sort(([a], [b]) => a - b).map(([app, name]) => ({ app, name }));
}

function historyRow(entry: HistoryEntry, apps: ReadonlyArray<{ app: number }>): string {
  const head = `<td>${escapeHtml(period(entry))}</td><td class="num epsilon">${escapeHtml(entry.epsilon)}</td>`;
  if (entry.kind === "refusal") {
    return `<tr class="refusal">${head}<td colspan="${Math.max(apps.length, 1)}">refused: ${escapeHtml(entry.reason)}</td></tr>`;
  }
  const cells = apps.map((a) => {
    const count = entry.counts.find((c) => c.app === a.app)?.count;
    return `<td class="num" data-app="${a.app}">${count === undefined ? "—" : count}</td>`;
  });
  return `<tr class="release">${head}${cells.join("")}</tr>`;
}

function period(p: { period_start: number; period_end: number }): string {
  const start = utc(p.period_start);
  const end = utc(p.period_end);
  return start.slice(0, 10) === end.slice(0, 10) ? `${start} – ${end.slice(11)}` : `${start} – ${end}`;
}

function utc(seconds: number): string {
  return new Date(seconds * 1000).toISOString().slice(0, 19).replace("T", " ");
}

const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1d2330; background: #f6f7f9; }
header { display: flex; align-items: center; gap: 1rem; }
h1 { font-size: 1.3rem; margin: 0; }
h2 { font-size: 1rem; margin: 1.5rem 0 0.5rem; }
.badge { padding: 0.2rem 0.6rem; border-radius: 1rem; background: #c7efcf; color: #14532d; font-weight: 600; }
.badge.exhausted { background: #fbd0d0; color: #7f1d1d; }
.notice { background: #fbd0d0; color: #7f1d1d; padding: 0.5rem 0.75rem; border-radius: 0.5rem; }
.tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(12rem, 1fr)); gap: 0.75rem; margin-top: 1rem; }
.tile { background: #fff; border-radius: 0.5rem; padding: 0.75rem; box-shadow: 0 1px 2px #0002; }
.label { color: #667; font-size: 0.8rem; } .value { font-size: 1.4rem; font-variant-numeric: tabular-nums; }
table { border-collapse: collapse; background: #fff; } td, th { padding: 0.3rem 0.7rem; text-align: left; border-bottom: 1px solid #e3e5e8; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.refusal td { color: #b91c1c; }
figure { margin: 1rem 0; } figcaption { color: #445; margin-bottom: 0.25rem; }
.chart { background: #fff; border-radius: 0.5rem; box-shadow: 0 1px 2px #0002; max-width: 100%; height: auto; }
.chart text { font-size: 11px; fill: #667; } .chart .zero { stroke: #99a; }
.chart .pos { fill: #3b82f6; } .chart .neg { fill: #f97316; }
footer { margin-top: 1.5rem; color: #667; }
`;
