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
