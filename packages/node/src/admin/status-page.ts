import { createHash } from "node:crypto";

/**
 * The operator's page at `/status`: plain HTML, inline CSS and script, no external assets.
 * The script reads `/status.json` every `refreshMs` and rewrites the numbers in place.
 */
export function statusPage(refreshMs: number): { html: string; contentSecurityPolicy: string } {
  const script = SCRIPT.replace("__REFRESH_MS__", String(refreshMs));
  const hash = createHash("sha256").update(script).digest("base64");
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Omnigate status</title>
<style>${STYLE}</style>
</head>
<body>
<header><h1>Omnigate <span id="node_id"></span></h1><span id="ready" class="badge">…</span></header>
<noscript><p>This page refreshes through JavaScript; the same numbers are at <a href="status.json">status.json</a>.</p></noscript>
<section class="tiles">
${TILES.map(([id, label]) => `<div class="tile"><div class="label">${label}</div><div class="value" id="${id}">…</div></div>`).join("\n")}
</section>
<section><h2>Services</h2><table><thead><tr><th>service</th><th>app</th><th>state</th><th>restarts</th><th>crashes (window)</th><th>retry in</th><th>last crash</th></tr></thead><tbody id="services"></tbody></table></section>
<section><h2>Apps</h2><table><thead><tr><th>app</th><th>in flight</th><th>requests</th><th>bytes in</th><th>bytes out</th></tr></thead><tbody id="apps"></tbody></table></section>
<section><h2>Rejections by reason</h2><table><tbody id="reasons"></tbody></table></section>
<section><h2>Kernel events</h2><ol id="events"></ol></section>
<footer>Updated <span id="updated">never</span><span id="waiting_for"></span> · <a href="status.json">status.json</a> · <a href="metrics">metrics</a></footer>
<script>${script}</script>
</body>
</html>
`;
  const contentSecurityPolicy = `default-src 'none'; script-src 'sha256-${hash}'; style-src 'unsafe-inline'; connect-src 'self'`;
  return { html, contentSecurityPolicy };
}

const TILES: Array<[string, string]> = [
  ["inflight", "in flight"],
  ["requests", "requests"],
  ["connections", "connections"],
  ["rejected", "rejected"],
  ["quota_rejections", "quota rejections"],
  ["restarts", "service restarts"],
  ["bus_overflow_dropped", "bus events dropped"],
  ["uptime_s", "uptime (s)"],
];

const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1d2330; background: #f6f7f9; }
header { display: flex; align-items: center; gap: 1rem; }
h1 { font-size: 1.3rem; margin: 0; } h1 span { font-weight: normal; color: #667; font-size: 0.9rem; }
h2 { font-size: 1rem; margin: 1.5rem 0 0.5rem; }
.badge { padding: 0.2rem 0.6rem; border-radius: 1rem; background: #ccc; font-weight: 600; }
.badge.ready { background: #c7efcf; color: #14532d; } .badge.not-ready { background: #fbd0d0; color: #7f1d1d; }
.tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(10rem, 1fr)); gap: 0.75rem; margin-top: 1rem; }
.tile { background: #fff; border-radius: 0.5rem; padding: 0.75rem; box-shadow: 0 1px 2px #0002; }
.label { color: #667; font-size: 0.8rem; } .value { font-size: 1.6rem; font-variant-numeric: tabular-nums; }
table { border-collapse: collapse; background: #fff; } td, th { padding: 0.3rem 0.7rem; text-align: left; border-bottom: 1px solid #e3e5e8; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.down { color: #b91c1c; font-weight: 600; } footer { margin-top: 1.5rem; color: #667; }
`;

// Plain DOM, textContent only: nothing from the JSON is ever parsed as HTML.
const SCRIPT = `
"use strict";
const refreshMs = __REFRESH_MS__;
const $ = (id) => document.getElementById(id);
function row(cells, down) {
  const tr = document.createElement("tr");
  for (const [text, num] of cells) {
    const td = document.createElement("td");
    td.textContent = String(text);
    if (num) td.className = "num";
    tr.appendChild(td);
  }
  if (down) tr.className = "down";
  return tr;
}
function render(s) {
  $("node_id").textContent = s.node_id + " · " + s.version;
  const ready = $("ready");
  ready.textContent = s.ready ? "ready" : "not ready";
  ready.className = "badge " + (s.ready ? "ready" : "not-ready");
  $("waiting_for").textContent = s.ready ? "" : " · waiting for: " + s.waiting_for.join(", ");
  for (const id of ["inflight", "requests", "connections", "rejected", "quota_rejections", "restarts", "bus_overflow_dropped", "uptime_s"]) {
    $(id).textContent = String(s[id]);
  }
  $("services").replaceChildren(...s.services.map((v) => row([[v.service], [v.app], [v.state], [v.restarts, 1], [v.crashes_in_window, 1], [v.retry_in_ms ? v.retry_in_ms + " ms" : ""], [v.last_crash ?? ""]], !v.ok)));
  $("apps").replaceChildren(...s.apps.map((a) => row([[a.app], [a.inflight, 1], [a.requests, 1], [a.bytesIn, 1], [a.bytesOut, 1]])));
  $("reasons").replaceChildren(...Object.entries(s.rejected_by_reason).map(([r, n]) => row([[r], [n, 1]])));
  $("events").replaceChildren(...s.events.map((e) => {
    const li = document.createElement("li");
    const { at, kind, ...rest } = e;
    li.textContent = at + "  " + kind + "  " + JSON.stringify(rest);
    return li;
  }));
  $("updated").textContent = new Date().toLocaleTimeString();
}
async function refresh() {
  try {
    const res = await fetch("status.json", { cache: "no-store" });
    if (res.ok) render(await res.json());
    else $("updated").textContent = "error " + res.status;
  } catch (err) {
    $("updated").textContent = "unreachable";
  }
  setTimeout(refresh, refreshMs);
}
refresh();
`;
