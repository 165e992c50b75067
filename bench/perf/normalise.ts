/**
 * Turns the comparison lines of the benches into uniform metrics: one same-run ratio each,
 * higher is better, under a key that stays the same from run to run, e.g.
 * `oap-echo/oap_vs_raw-tls/64B/64` or `storage/oap_vs_https/get_throughput`.
 *
 * The benches say "A against B" in two ways: `compare: "A/B"` (oap-echo, oap-proxy, mailbox)
 * or `compare: <measure>` with `system` and `baseline` (storage). The ratio is `rps_ratio`
 * or `ratio`. A comparison line without a ratio (storage's first-byte p95 against a fixed
 * target) is not a metric yet.
 */
import type { BenchLine, BenchRun } from "./runner.js";

export interface Metric {
  key: string;
  /** The rig's name of the bench run (e.g. `mailbox-sqlite`), not the bench's own `bench` field. */
  bench: string;
  metric: string;
  config: string;
  ratio: number;
  higher_is_better: true;
}

export function metricsOf(run: Pick<BenchRun, "name" | "lines">): Metric[] {
  return run.lines.flatMap((line) => {
    const metric = metricOf(run.name, line);
    return metric ? [metric] : [];
  });
}

export function metricOf(bench: string, line: BenchLine): Metric | undefined {
  const { compare } = line;
  const ratio = typeof line.rps_ratio === "number" ? line.rps_ratio : line.ratio;
  if (typeof compare !== "string" || typeof ratio !== "number" || !Number.isFinite(ratio)) return undefined;
  const config: string[] = [];
  let pair: [unknown, unknown];
  if (compare.includes("/")) {
    const [system, baseline] = compare.split("/", 2);
    pair = [system, baseline];
  } else {
    pair = [line.system, line.baseline];
    config.push(compare);
  }
  const [system, baseline] = pair;
  if (typeof system !== "string" || typeof baseline !== "string") return undefined;
  if (typeof line.body_bytes === "number") config.push(`${line.body_bytes}B`);
  if (typeof line.inflight === "number") config.push(String(line.inflight));
  const metric = `${system}_vs_${baseline}`;
  const configKey = config.join("/");
  return {
    key: [bench, metric, configKey].filter(Boolean).join("/"),
    bench,
    metric,
    config: configKey,
    ratio,
    higher_is_better: true,
  };
}

/**
 * One metric per key, its ratio the median of the repeats (`--repeat N`): a short window's
 * ratio swings by a third on this machine, the median of three or five far less, so the gate's
 * margin can stay tight without failing on noise. Keys keep the order they first appeared in.
 */
export function medianByKey(metrics: readonly Metric[]): Metric[] {
  const byKey = new Map<string, Metric[]>();
  for (const m of metrics) {
    const list = byKey.get(m.key);
    if (list) list.push(m);
    else byKey.set(m.key, [m]);
  }
  return [...byKey.values()].map((repeats) => {
    const ratios = repeats.map((m) => m.ratio).sort((a, b) => a - b);
    const mid = ratios.length >> 1;
    const ratio =
      ratios.length % 2
        ? (ratios[mid] as number)
        : ((ratios[mid - 1] as number) + (ratios[mid] as number)) / 2;
    return { ...(repeats[0] as Metric), ratio: Math.round(ratio * 1000) / 1000 };
  });
}
