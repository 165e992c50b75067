/**
 * The report's plots as inline SVG (no scripts, no external assets): horizontal grouped bars
 * with a min–max whisker, and the ratio-against-baseline chart.
 */
import type { GateResult, Verdict } from "./gate.js";
import type { SystemRow } from "./report-samples.js";

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export const VERDICT_COLOUR: Record<Verdict, string> = {
  ok: "#2ca02c",
  regressed: "#d62728",
  new: "#1f77b4",
  missing: "#7f7f7f",
  info: "#9467bd",
};

const PALETTE = ["#4c78a8", "#f58518", "#54a24b", "#b279a2", "#e45756", "#72b7b2", "#9d755d"];

/** A number short enough for a label: 3 significant digits, no exponent for ordinary sizes. */
export function short(value: number): string {
  if (value === 0) return "0";
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${(value / 1e6).toPrecision(3)} M`;
  if (abs >= 1e4) return `${(value / 1e3).toPrecision(3)} k`;
  return String(Number(value.toPrecision(3)));
}

/**
 * One row per system, one bar per series (e.g. p50 and p99, or client and server), the bar at
 * the median over the samples and a whisker from min to max when there is more than one.
 */
export function groupedBars(title: string, unit: string, rows: readonly SystemRow[]): string {
  const names = [...new Set(rows.flatMap((r) => r.series.map((s) => s.name)))];
  const labelW = 170;
  const plotW = 380;
  const barH = 12;
  const rowH = names.length * (barH + 2) + 10;
  const top = 34;
  const max = Math.max(Number.MIN_VALUE, ...rows.flatMap((r) => r.series.map((s) => s.max))) * 1.15;
  const x = (v: number) => labelW + (v / max) * plotW;
  const height = top + rows.length * rowH + 6;
  const e = escapeHtml;
  const parts: string[] = [
    `<text x="0" y="14" font-size="13" font-weight="bold">${e(title)}</text>`,
    `<text x="${labelW + plotW}" y="14" font-size="11" text-anchor="end" fill="#555">${e(unit)}</text>`,
  ];
  let lx = labelW;
  names.forEach((name, i) => {
    if (i > 0) lx += 30 + 6.5 * (names[i - 1] as string).length;
    parts.push(
      `<rect x="${lx}" y="20" width="10" height="10" fill="${PALETTE[i % PALETTE.length]}"/>`,
      `<text x="${lx + 14}" y="29" font-size="11">${e(name)}</text>`,
    );
  });
  rows.forEach((row, r) => {
    const y0 = top + r * rowH;
    parts.push(
      `<text x="${labelW - 6}" y="${y0 + rowH / 2 + 2}" text-anchor="end" font-size="12">${e(row.system)}</text>`,
    );
    names.forEach((name, i) => {
      const s = row.series.find((x) => x.name === name);
      if (!s) return;
      const y = y0 + 4 + i * (barH + 2);
      const colour = PALETTE[i % PALETTE.length];
      const tip = `${row.system} ${name}: median ${short(s.median)} ${unit} (min ${short(s.min)}, max ${short(s.max)}, ${s.samples} samples)`;
      parts.push(
        `<rect x="${labelW}" y="${y}" width="${Math.max(0.5, x(s.median) - labelW)}" height="${barH}" fill="${colour}"><title>${e(tip)}</title></rect>`,
      );
      if (s.samples > 1 && s.max > s.min) {
        parts.push(
          `<line x1="${x(s.min)}" x2="${x(s.max)}" y1="${y + barH / 2}" y2="${y + barH / 2}" stroke="#333"/>`,
          `<line x1="${x(s.min)}" x2="${x(s.min)}" y1="${y + 2}" y2="${y + barH - 2}" stroke="#333"/>`,
          `<line x1="${x(s.max)}" x2="${x(s.max)}" y1="${y + 2}" y2="${y + barH - 2}" stroke="#333"/>`,
        );
      }
      parts.push(
        `<text x="${Math.max(x(s.median), s.samples > 1 ? x(s.max) : 0) + 4}" y="${y + barH - 2}" font-size="10" fill="#333">${e(short(s.median))}</text>`,
      );
    });
  });
  return svg(labelW + plotW + 60, height, title, parts);
}

/**
 * The gated ratios of one bench, each as this run's ratio over its baseline (1 = the baseline),
 * so metrics of any size share a scale: a bar per metric coloured by verdict, a dot per round,
 * a solid line at the baseline and a dashed one at the limit (left of 1 for a higher-is-better
 * ratio, right of it for a cost ratio). Metrics without a baseline are listed under the chart.
 */
export function ratioChart(results: readonly GateResult[], rounds: ReadonlyMap<string, number[]>): string {
  const drawn = results.filter((r) => r.baseline !== undefined && r.ratio !== undefined);
  if (drawn.length === 0) return "";
  const labelW = 330;
  const plotW = 360;
  const rowH = 24;
  const top = 22;
  const rel = (r: GateResult, v: number) => v / (r.baseline as number);
  const values = drawn.flatMap((r) => [
    rel(r, r.ratio as number),
    r.limit === undefined ? 1 : rel(r, r.limit),
    ...(rounds.get(r.key) ?? []).map((v) => rel(r, v)),
  ]);
  const max = Math.max(2, ...values) * 1.05;
  const x = (v: number) => labelW + (Math.min(v, max) / max) * plotW;
  const height = top + drawn.length * rowH + 6;
  const e = escapeHtml;
  const parts: string[] = [];
  for (let t = 0; t <= max; t += max > 4 ? 1 : 0.5) {
    parts.push(
      `<line x1="${x(t)}" x2="${x(t)}" y1="${top - 4}" y2="${height - 4}" stroke="#eee"/>`,
      `<text x="${x(t)}" y="${top - 8}" text-anchor="middle" font-size="10">${t.toFixed(1)}×</text>`,
    );
  }
  drawn.forEach((r, i) => {
    const y = top + i * rowH;
    const arrow = r.higher_is_better === false ? " ↓" : " ↑";
    parts.push(
      `<text x="${labelW - 6}" y="${y + 15}" text-anchor="end" font-size="11">${e(r.key.split("/").slice(1).join("/") + arrow)}</text>`,
    );
    const v = rel(r, r.ratio as number);
    parts.push(
      `<rect x="${labelW}" y="${y + 5}" width="${Math.max(0.5, x(v) - labelW)}" height="12" fill="${VERDICT_COLOUR[r.verdict]}" opacity="0.8"><title>${e(`${r.key}: ${short(r.ratio as number)}, baseline ${short(r.baseline as number)}, limit ${r.limit === undefined ? "—" : short(r.limit)} (${r.verdict})`)}</title></rect>`,
      `<line x1="${x(1)}" x2="${x(1)}" y1="${y + 2}" y2="${y + 20}" stroke="#000"/>`,
    );
    if (r.limit !== undefined) {
      parts.push(
        `<line x1="${x(rel(r, r.limit))}" x2="${x(rel(r, r.limit))}" y1="${y + 2}" y2="${y + 20}" stroke="#000" stroke-dasharray="3 2"/>`,
      );
    }
    for (const round of rounds.get(r.key) ?? []) {
      parts.push(
        `<circle cx="${x(rel(r, round))}" cy="${y + 11}" r="2.5" fill="#fff" stroke="#000"><title>round: ${e(short(round))}</title></circle>`,
      );
    }
  });
  return svg(labelW + plotW + 20, height, "ratio over baseline per metric", parts);
}

function svg(width: number, height: number, label: string, parts: readonly string[]): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" role="img" aria-label="${escapeHtml(label)}" font-family="system-ui, sans-serif">${parts.join("")}</svg>`;
}
