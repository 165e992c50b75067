/**
 * The soak report as one self-contained HTML page (inline SVG, no scripts): verdicts, the
 * rules behind them, plots over time with the injected fault windows shaded, and tables.
 */
import type { Sample } from "./sampler.js";
import type { Summary } from "./summary.js";

/** Text for HTML element content and quoted attribute values. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const e = escapeHtml;
const W = 860;
const H = 220;
const PAD = { left: 64, right: 150, top: 16, bottom: 34 };
const MAX_POINTS = 1500;

interface Series {
  name: string;
  colour: string;
  values: (number | null)[];
  /** How to merge samples when there are more than MAX_POINTS. */
  merge: "min" | "max" | "mean";
}

interface ChartSpec {
  title: string;
  unit: string;
  series: Series[];
  yMin?: number;
  yMax?: number;
  digits?: number;
}

/** The plots, in order: what each title names is what the README explains. */
export const CHART_TITLES = [
  "Availability per interval",
  "Requests per second",
  "Open file descriptors (node)",
  "Resident set size (node)",
  "Heap used (node)",
  "Event-loop delay (node)",
] as const;

export function reportHtml(summary: Summary, samples: readonly Sample[]): string {
  const ts = samples.map((s) => s.t);
  const windows = summary.faults.map((f) => ({
    dep: f.dependency,
    from: f.killed_at_s ?? 0,
    to: (f.ready_at_s ?? ts[ts.length - 1] ?? 0) + summary.run.fault_grace_ms / 1000,
  }));
  const minAvail = Math.min(
    0.99,
    ...samples
      .flatMap((s) => [s.availability, s.availability_ex_fault])
      .filter((v): v is number => v !== null),
  );
  const charts: ChartSpec[] = [
    {
      title: CHART_TITLES[0],
      unit: "%",
      yMin: Math.max(0, Math.floor(minAvail * 100) - 1),
      yMax: 100,
      digits: 2,
      series: [
        {
          name: "all admitted",
          colour: "#d62728",
          merge: "min",
          values: samples.map((s) => pctOf(s.availability)),
        },
        {
          name: "outside faults",
          colour: "#2ca02c",
          merge: "min",
          values: samples.map((s) => pctOf(s.availability_ex_fault)),
        },
      ],
    },
    {
      title: CHART_TITLES[1],
      unit: "/s",
      yMin: 0,
      series: [
        { name: "ended", colour: "#1f77b4", merge: "mean", values: samples.map((s) => s.rate) },
        {
          name: "refused",
          colour: "#ff7f0e",
          merge: "max",
          values: samples.map((s) => perSec(s, s.refused)),
        },
        {
          name: "failed + hung",
          colour: "#d62728",
          merge: "max",
          values: samples.map((s) => perSec(s, s.failed + s.hung)),
        },
      ],
    },
    {
      title: CHART_TITLES[2],
      unit: "",
      yMin: 0,
      series: [{ name: "FDs", colour: "#9467bd", merge: "max", values: samples.map((s) => s.fds) }],
    },
    {
      title: CHART_TITLES[3],
      unit: " MiB",
      yMin: 0,
      series: [
        { name: "RSS", colour: "#8c564b", merge: "max", values: samples.map((s) => s.rss_bytes / 2 ** 20) },
      ],
    },
    {
      title: CHART_TITLES[4],
      unit: " MiB",
      yMin: 0,
      series: [
        {
          name: "heap used",
          colour: "#17becf",
          merge: "max",
          values: samples.map((s) => mib(s.heap_used_bytes)),
        },
      ],
    },
    {
      title: CHART_TITLES[5],
      unit: " ms",
      yMin: 0,
      digits: 1,
      series: [
        { name: "node p99", colour: "#1f77b4", merge: "max", values: samples.map((s) => s.eventloop_p99_ms) },
        { name: "node max", colour: "#aec7e8", merge: "max", values: samples.map((s) => s.eventloop_max_ms) },
        {
          name: "harness p99",
          colour: "#7f7f7f",
          merge: "max",
          values: samples.map((s) => s.harness_eventloop_p99_ms),
        },
      ],
    },
  ];
  const v = summary.verdicts;
  const verdictRows = Object.entries(v)
    .map(
      ([name, x]) =>
        `<tr><td>${e(name)}</td><td class="${x.pass ? "ok" : "bad"}">${x.pass ? "pass" : "FAIL"}</td><td class="num">${e(String(x.value))}</td><td class="num">${e(String(x.limit ?? "—"))}</td><td>${e(x.rule)}${x.reason ? `<br><b>not judged:</b> ${e(x.reason)}` : ""}</td></tr>`,
    )
    .join("\n");
  const req = summary.requests;
  const opRows = Object.entries(req.by_op)
    .map(
      ([op, s]) =>
        `<tr><td>${e(op)}</td>${countCells(s.all)}<td class="num">${fmtAvail(s.availability)}</td><td class="num">${fmtAvail(s.availability_outside_faults)}</td><td class="num">${sumOf(s.during_fault)}</td></tr>`,
    )
    .join("\n");
  const reasonRows = req.not_successful
    .slice(0, 40)
    .map(
      (r) =>
        `<tr><td><code>${e(r.what)}</code></td><td class="num">${r.count}</td><td class="num">${r.first_at_s}</td></tr>`,
    )
    .join("\n");
  const faultRows = summary.faults
    .map(
      (f) =>
        `<tr><td>${e(f.dependency)}</td><td class="num">${f.killed_at_s}</td><td class="num">${f.down_s ?? "—"}</td><td class="num">${f.recovered_after_s ?? "not seen"}</td><td>${e(("error" in f ? String(f.error) : "") || "")}</td></tr>`,
    )
    .join("\n");
  const r = summary.resources;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Omnigate soak report</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; max-width: 1100px; }
table { border-collapse: collapse; margin: 1em 0; }
td, th { border: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
.ok { color: #2ca02c; font-weight: bold; } .bad { color: #d62728; font-weight: bold; }
h2 { margin-top: 1.6em; }
</style></head><body>
<h1>Omnigate soak report</h1>
<p>Started ${e(summary.run.started_at)}, ran ${e(String(summary.run.elapsed_s))} s of ${e(String(summary.run.planned_s))} s planned,
seed ${summary.run.seed}, ${summary.run.rate_per_s} arrivals/s (open loop), a sample every ${summary.run.sample_interval_s} s
(${summary.run.samples} samples). Node flags: <code>${e(summary.run.node_flags.join(" "))}</code>.</p>
<p class="${summary.pass ? "ok" : "bad"}">${summary.pass ? "Every verdict passed." : "Some verdict failed."}</p>
<h2>Verdicts</h2>
<table><tr><th>verdict</th><th>result</th><th>value</th><th>limit</th><th>rule</th></tr>
${verdictRows}
</table>
<h2>What is counted how</h2>
<ul>
<li><b>success</b>: the call resolved and the bytes it returned were checked (echo and app bodies, stored objects, mailbox message bodies).</li>
<li><b>refused</b>: not admitted: the node refused the request with 429 or 503 and a <code>retry_after_ms</code>. Refused requests are not in the availability figures;
the quotas are set never to refuse, so any refusal outside an injected fault fails the verdict <code>no_refusals_outside_faults</code>.</li>
<li><b>failed</b>: admitted and then failed: any other error, a wrong body included (e.g. 502 <code>backend_unavailable</code>, a lost connection).</li>
<li><b>hung</b>: no answer within the call's deadline (${summary.run.deadline_ms} ms): the SDK's deadline fired with no reply from the node, or the call had not settled ${summary.run.hang_grace_ms} ms after its deadline (a storage stream resent after a 401: after the deadlines of its refresh and resend).</li>
<li><b>availability</b> = success / (success + failed + hung).</li>
<li><b>during injected fault</b>: the request's time span overlapped a fault window of a dependency it uses (app → backend; mailbox.* → redis),
from the SIGKILL until ${summary.run.fault_grace_ms} ms after the dependency answered again. Echo, storage and capability revocation use neither
(the node's quota check uses Redis but is meant to fall back to a local bucket), so their failures always count.</li>
</ul>
<h2>Totals</h2>
<table><tr><th></th><th>success</th><th>refused</th><th>failed</th><th>hung</th><th>availability</th></tr>
<tr><td>all requests</td>${countCells(req.all)}<td class="num">${fmtAvail(req.availability)}</td></tr>
<tr><td>outside injected faults</td>${countCells(req.outside_faults)}<td class="num">${fmtAvail(req.availability_outside_faults)}</td></tr>
<tr><td>during injected fault</td>${countCells(req.during_fault)}<td class="num">${fmtAvail(req.availability_during_fault)}</td></tr>
</table>
<p>Shed by the harness (too many calls outstanding, never sent): ${req.shed_by_harness}. Watchdog-hung calls that settled later: ${req.late_settles}.
Body mismatches: ${req.body_mismatches}. Capabilities minted ${req.capabilities.minted}, revoked ${req.capabilities.revoked};
storage streams resent after a 401: ${req.capabilities.stream_resends_after_401}. Subscription: ${req.subscription.delivered} messages pushed,
${req.subscription.restarts.length} restarts.</p>
<p>FDs after warm-up (${r.fds.warmup_s} s, ${r.fds.judged_samples} samples): first-half max ${r.fds.first_half_max ?? "—"}, second-half max ${r.fds.last_half_max ?? "—"} (slack ${r.fds.slack ?? "—"}).
RSS after warm-up (${r.rss_bytes.warmup_s} s): ${mibText(r.rss_bytes.baseline)} → ${mibText(r.rss_bytes.final)} (${pctText(r.rss_bytes.growth)}).
Heap: ${mibText(r.heap_used_bytes.baseline)} → ${mibText(r.heap_used_bytes.final)} (${pctText(r.heap_used_bytes.growth)}).
Event-loop delay: p99 of interval p99s ${r.eventloop_ms.p99_of_interval_p99} ms, median ${r.eventloop_ms.median_interval_p99} ms, worst interval p99 ${r.eventloop_ms.max_interval_p99} ms, max ${r.eventloop_ms.max} ms.</p>
<h2>Over time</h2>
<p>Shaded: injected fault windows (<span style="color:#d62728">■</span> backend, <span style="color:#1f77b4">■</span> redis). The node's event-loop figures are prom-client's, reset at every scrape, so each point covers one interval.</p>
${charts.map((c) => chart(c, ts, windows)).join("\n")}
<h2>By operation</h2>
<table><tr><th>op</th><th>success</th><th>refused</th><th>failed</th><th>hung</th><th>availability</th><th>outside faults</th><th>during fault</th></tr>
${opRows}
</table>
<h2>Requests that did not succeed</h2>
<table><tr><th>op, outcome, reason</th><th>count</th><th>first at (s)</th></tr>
${reasonRows || "<tr><td colspan=3>none</td></tr>"}
</table>
<h2>Injected faults</h2>
<table><tr><th>dependency</th><th>SIGKILL at (s)</th><th>down (s)</th><th>first success after restart (s)</th><th>error</th></tr>
${faultRows || "<tr><td colspan=5>none</td></tr>"}
</table>
</body></html>
`;
}

const pctOf = (v: number | null) => (v === null ? null : v * 100);
const mib = (v: number | null) => (v === null ? null : v / 2 ** 20);
const mibText = (v: number | null) => (v === null ? "—" : `${(v / 2 ** 20).toFixed(1)} MiB`);
const pctText = (v: number | null) => (v === null ? "—" : `${v >= 0 ? "+" : ""}${(v * 100).toFixed(1)} %`);
const fmtAvail = (v: number | null) => (v === null ? "—" : `${(v * 100).toFixed(3)} %`);
const sumOf = (c: { success: number; refused: number; failed: number; hung: number }) =>
  c.success + c.refused + c.failed + c.hung;
const countCells = (c: { success: number; refused: number; failed: number; hung: number }) =>
  `<td class="num">${c.success}</td><td class="num">${c.refused}</td><td class="num">${c.failed}</td><td class="num">${c.hung}</td>`;

function perSec(s: Sample, n: number): number {
  return s.requests > 0 ? (s.rate * n) / s.requests : 0;
}

/** Merges neighbouring points so a long run keeps at most MAX_POINTS per series. */
function downsample(ts: readonly number[], values: readonly (number | null)[], merge: Series["merge"]) {
  const step = Math.max(1, Math.ceil(ts.length / MAX_POINTS));
  const out: [number, number][] = [];
  for (let i = 0; i < ts.length; i += step) {
    const vs = values.slice(i, i + step).filter((v): v is number => v !== null && Number.isFinite(v));
    if (vs.length === 0) continue;
    const v =
      merge === "min"
        ? Math.min(...vs)
        : merge === "max"
          ? Math.max(...vs)
          : vs.reduce((a, b) => a + b) / vs.length;
    out.push([ts[Math.min(ts.length - 1, i + step - 1)] as number, v]);
  }
  return out;
}

function chart(
  spec: ChartSpec,
  ts: readonly number[],
  windows: { dep: string; from: number; to: number }[],
): string {
  const tMax = Math.max(1, ts[ts.length - 1] ?? 1);
  const lines = spec.series.map((s) => ({ ...s, points: downsample(ts, s.values, s.merge) }));
  const all = lines.flatMap((l) => l.points.map((p) => p[1]));
  const lo = spec.yMin ?? Math.min(0, ...all);
  let hi = spec.yMax ?? Math.max(lo + 1e-9, ...all) * 1.1;
  if (hi <= lo) hi = lo + 1;
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const x = (t: number) => PAD.left + (t / tMax) * plotW;
  const y = (v: number) => PAD.top + (1 - (Math.min(hi, Math.max(lo, v)) - lo) / (hi - lo)) * plotH;
  const d = spec.digits ?? (hi - lo < 10 ? 1 : 0);
  const parts: string[] = [];
  for (const w of windows) {
    const x0 = x(Math.max(0, w.from));
    const x1 = x(Math.min(tMax, w.to));
    parts.push(
      `<rect x="${x0.toFixed(1)}" y="${PAD.top}" width="${Math.max(1, x1 - x0).toFixed(1)}" height="${plotH}" fill="${w.dep === "redis" ? "#1f77b4" : "#d62728"}" opacity="0.12"><title>${e(`${w.dep} fault ${w.from}–${w.to.toFixed(1)} s`)}</title></rect>`,
    );
  }
  for (let k = 0; k <= 4; k++) {
    const v = lo + ((hi - lo) * k) / 4;
    parts.push(
      `<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#eee"/>`,
      `<text x="${PAD.left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" font-size="11">${v.toFixed(d)}${e(spec.unit)}</text>`,
    );
  }
  for (let k = 0; k <= 6; k++) {
    const t = (tMax * k) / 6;
    parts.push(
      `<text x="${x(t).toFixed(1)}" y="${H - PAD.bottom + 16}" text-anchor="middle" font-size="11">${e(timeLabel(t))}</text>`,
    );
  }
  parts.push(
    `<line x1="${PAD.left}" x2="${PAD.left}" y1="${PAD.top}" y2="${PAD.top + plotH}" stroke="#999"/>`,
    `<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${PAD.top + plotH}" y2="${PAD.top + plotH}" stroke="#999"/>`,
  );
  lines.forEach((l, k) => {
    parts.push(
      `<polyline fill="none" stroke="${l.colour}" stroke-width="1.4" points="${l.points.map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(" ")}"/>`,
      `<rect x="${W - PAD.right + 10}" y="${PAD.top + 6 + k * 18}" width="10" height="10" fill="${l.colour}"/>`,
      `<text x="${W - PAD.right + 24}" y="${PAD.top + 15 + k * 18}" font-size="11">${e(l.name)}</text>`,
    );
  });
  return `<h3>${e(spec.title)}</h3>
<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" role="img" aria-label="${e(spec.title)}">${parts.join("")}</svg>`;
}

function timeLabel(t: number): string {
  if (t >= 3600) return `${(t / 3600).toFixed(1)} h`;
  if (t >= 120) return `${(t / 60).toFixed(0)} min`;
  return `${t.toFixed(0)} s`;
}
