/**
 * One app's noisy counts over periods as an inline SVG bar chart: bars up from the zero line,
 * or down for negative noisy counts (they are released as they are). No script, no external
 * assets; every text goes through `escapeHtml`.
 */
import { escapeHtml } from "./html-escape.js";

const WIDTH = 640;
const HEIGHT = 140;
const LEFT = 48;
const TOP = 10;
const BOTTOM = 10;

export interface ChartPoint {
  /** What the bar's tooltip names: the period. */
  readonly label: string;
  readonly value: number;
}

export function barChart(title: string, points: readonly ChartPoint[]): string {
  const high = Math.max(0, ...points.map((p) => p.value));
  const low = Math.min(0, ...points.map((p) => p.value));
  const span = high - low || 1;
  const plotHeight = HEIGHT - TOP - BOTTOM;
  const y = (value: number) => TOP + ((high - value) / span) * plotHeight;
  const slot = (WIDTH - LEFT) / Math.max(points.length, 1);
  const barWidth = Math.max(1, Math.min(24, slot * 0.8));
  const bars = points.map((p, i) => {
    const x = LEFT + i * slot + (slot - barWidth) / 2;
    const top = Math.min(y(p.value), y(0));
    const height = Math.max(1, Math.abs(y(p.value) - y(0)));
    const kind = p.value < 0 ? "neg" : "pos";
    return `<rect class="${kind}" x="${x.toFixed(1)}" y="${top.toFixed(1)}" width="${barWidth.toFixed(1)}" height="${height.toFixed(1)}"><title>${escapeHtml(`${p.label}: ${p.value}`)}</title></rect>`;
  });
  return `<svg class="chart" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" role="img" aria-label="${escapeHtml(title)}">
<text x="${LEFT - 6}" y="${y(high) + 4}" text-anchor="end">${high}</text>
${low === high ? "" : `<text x="${LEFT - 6}" y="${y(low) + 4}" text-anchor="end">${low}</text>`}
<line x1="${LEFT}" x2="${WIDTH}" y1="${y(0)}" y2="${y(0)}" class="zero"/>
${bars.join("\n")}
</svg>`;
}
