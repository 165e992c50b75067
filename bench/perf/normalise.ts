/**
 * Turns the comparison lines of the benches into uniform metrics: one same-run ratio each,
 * under a key that stays the same from run to run, e.g. `oap-echo/oap_vs_raw-tls/64B/64` or
 * `storage/oap_vs_https/get_throughput`. A bench's ratio is higher-is-better (a rate over the
 * floor's) unless its line says `higher_is_better: false`.
 *
 * The benches say "A against B" in two ways: `compare: "A/B"` (oap-echo, oap-proxy, mailbox)
 * or `compare: <measure>` with `system` and `baseline` (storage). The ratio is `rps_ratio`
 * or `ratio`. A comparison line without a ratio (storage's first-byte p95 against a fixed
 * target) is not a metric yet.
 *
 * Server CPU per request: where an `A/B` comparison line carries `server_cpu_ratio`, or the
 * same run has result lines of A and B (same `body_bytes` and `inflight`) that both carry
 * `server_cpu_us`, a second metric `<key>/server_cpu_ratio` is A's over B's, lower is better.
 */
import type { BenchLine, BenchRun } from "./runner.js";

export interface Metric {
  key: string;
  /** The rig's name of the bench run (e.g. `mailbox-sqlite`), not the bench's own `bench` field. */
  bench: string;
  metric: string;
  config: string;
  /** What the ratio is of: the bench's own ratio, or server CPU per request over the floor's. */
  measure: "ratio" | "server_cpu_ratio";
  ratio: number;
  /** False for a cost ratio (CPU per request, time): the gate then fails on a rise. */
  higher_is_better: boolean;
}

export const SERVER_CPU_SUFFIX = "server_cpu_ratio";

export function metricsOf(run: Pick<BenchRun, "name" | "lines">): Metric[] {
  return run.lines.flatMap((line) => {
    const out: Metric[] = [];
    const metric = metricOf(run.name, line);
    if (metric) out.push(metric);
    const cpu = serverCpuMetricOf(run.name, line, run.lines);
    if (cpu) out.push(cpu);
    return out;
  });
}

export function metricOf(bench: string, line: BenchLine): Metric | undefined {
  const ratio = typeof line.rps_ratio === "number" ? line.rps_ratio : line.ratio;
  const named = nameOf(bench, line);
  if (!named || typeof ratio !== "number" || !Number.isFinite(ratio)) return undefined;
  return { ...named, measure: "ratio", ratio, higher_is_better: line.higher_is_better !== false };
}

/**
 * Server CPU per request of the line's system over its floor's: the line's own
 * `server_cpu_ratio`, else computed from the run's result lines of the two systems in the same
 * configuration. Only `A/B` comparisons name two systems whose result lines can be found.
 */
export function serverCpuMetricOf(
  bench: string,
  line: BenchLine,
  runLines: readonly BenchLine[],
): Metric | undefined {
  const named = nameOf(bench, line);
  if (!named || typeof line.compare !== "string" || !line.compare.includes("/")) return undefined;
  let ratio = line.server_cpu_ratio;
  if (typeof ratio !== "number") {
    const [system, floor] = line.compare.split("/", 2);
    const cpuOf = (name: string | undefined) =>
      runLines.find(
        (l) =>
          l.compare === undefined &&
          l.system === name &&
          l.body_bytes === line.body_bytes &&
          l.inflight === line.inflight &&
          typeof l.server_cpu_us === "number",
      )?.server_cpu_us as number | undefined;
    const mine = cpuOf(system);
    const theirs = cpuOf(floor);
    if (mine === undefined || theirs === undefined || !(theirs > 0)) return undefined;
    ratio = Math.round((mine / theirs) * 1000) / 1000;
  }
  if (typeof ratio !== "number" || !Number.isFinite(ratio) || !(ratio > 0)) return undefined;
  return {
    ...named,
    key: `${named.key}/${SERVER_CPU_SUFFIX}`,
    measure: "server_cpu_ratio",
    ratio,
    higher_is_better: false,
  };
}

function nameOf(
  bench: string,
  line: BenchLine,
): Pick<Metric, "key" | "bench" | "metric" | "config"> | undefined {
  const { compare } = line;
  if (typeof compare !== "string") return undefined;
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
  return { key: [bench, metric, configKey].filter(Boolean).join("/"), bench, metric, config: configKey };
}

/**
 * One metric per key, its ratio the median of the repeats (`--repeat N`): a short window's
 * ratio swings by a third on this machine, the median of three or five far less, so the gate's
 * margin can stay tight without failing on noise. Keys keep the order they first appeared in.
 * Ratios keep three significant digits (some are far below 1: a cold capability check against a Map lookup).
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
    return { ...(repeats[0] as Metric), ratio: significant(ratio) };
  });
}

/** Three significant digits: 0.000104 stays 0.000104, 1.2345 becomes 1.23. */
export function significant(value: number): number {
  return value === 0 || !Number.isFinite(value) ? value : Number(value.toPrecision(3));
}
