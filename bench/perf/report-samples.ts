/**
 * The raw result lines of a run, grouped for the report's plots: per bench run and
 * configuration, per system, the median (and range) over the rounds of each plotted field.
 * The benches name their fields differently, so fields are classed by name:
 *
 * - throughput: `rps`, `msgs_per_sec`, `rows_per_sec`, `per_second`, `mb_per_s`;
 * - latency: `p50_ms`, `p99_ms`, `p95_ms`, `send_p99_ms`, `e2e_p50_ms`, …, `first_tile_ms`;
 * - CPU µs per request per side: `client_cpu_us`, `server_cpu_us`, `node_cpu_us`,
 *   `backend_cpu_us`, `…_cpu_us_per_msg`;
 * - cost per operation: `ns_per_request` (caps-verify, observe-overhead), `median_ms` (ledger).
 *
 * A result line is one with a system (`system`, `variant`, `path`, or a ledger `measure`) and
 * no `compare`; its configuration is `body_bytes`, `inflight`, `object_bytes` and storage's
 * `measure`, where present.
 */
import type { BenchLine } from "./runner.js";

export type FieldClass = "throughput" | "latency" | "cpu" | "cost";

export interface Series {
  /** The field's name with its unit suffix taken off, e.g. `p99`, `server`, `rps`. */
  name: string;
  field: string;
  median: number;
  min: number;
  max: number;
  samples: number;
}

export interface SystemRow {
  system: string;
  series: Series[];
}

export interface ConfigGroup {
  bench: string;
  config: string;
  /** Rows per field class, systems in the order they first appeared. */
  byClass: Partial<Record<FieldClass, SystemRow[]>>;
}

const THROUGHPUT = new Set(["rps", "msgs_per_sec", "rows_per_sec", "per_second", "mb_per_s"]);

export function classOf(field: string): FieldClass | undefined {
  if (THROUGHPUT.has(field)) return "throughput";
  if (/(^|_)p\d+_ms$/.test(field) || field === "first_tile_ms") return "latency";
  if (/_cpu_us(_per_msg)?$/.test(field)) return "cpu";
  if (field === "ns_per_request" || field === "median_ms") return "cost";
  return undefined;
}

function seriesName(field: string, cls: FieldClass): string {
  if (cls === "cpu") return field.replace(/_cpu_us(_per_msg)?$/, "");
  if (cls === "latency") return field.replace(/_ms$/, "");
  return field;
}

export function systemOf(line: BenchLine): string | undefined {
  if (line.compare !== undefined || line.summary !== undefined) return undefined;
  for (const k of ["system", "variant", "path"] as const) {
    if (typeof line[k] === "string") return line[k] as string;
  }
  if (typeof line.measure === "string") {
    // ledger: one measure per system, told apart by how many values it proves.
    return typeof line.values === "number" ? `${line.measure} ×${line.values}` : line.measure;
  }
  return undefined;
}

export function configOf(line: BenchLine): string {
  const parts: string[] = [];
  if (typeof line.system === "string" && typeof line.measure === "string") parts.push(line.measure);
  if (typeof line.body_bytes === "number") parts.push(`${line.body_bytes} B`);
  if (typeof line.inflight === "number") parts.push(`${line.inflight} in flight`);
  if (typeof line.object_bytes === "number") parts.push(`${line.object_bytes} B object`);
  return parts.join(", ");
}

/** Groups the tagged raw lines (perf_bench) by bench run and configuration, in first-seen order. */
export function configGroups(lines: readonly BenchLine[]): ConfigGroup[] {
  // bench → config → class → system → field → values
  const tree = new Map<string, Map<string, Map<FieldClass, Map<string, Map<string, number[]>>>>>();
  const at = <K, V>(map: Map<K, V>, key: K, make: () => V): V => {
    let value = map.get(key);
    if (value === undefined) {
      value = make();
      map.set(key, value);
    }
    return value;
  };
  for (const line of lines) {
    const system = systemOf(line);
    const bench =
      typeof line.perf_bench === "string"
        ? line.perf_bench
        : typeof line.bench === "string"
          ? line.bench
          : undefined;
    if (system === undefined || bench === undefined) continue;
    const config = configOf(line);
    for (const [field, value] of Object.entries(line)) {
      const cls = classOf(field);
      if (cls === undefined || typeof value !== "number" || !Number.isFinite(value)) continue;
      const bySystem = at(
        at(
          at(tree, bench, () => new Map()),
          config,
          () => new Map(),
        ),
        cls,
        () => new Map(),
      );
      at(
        at(bySystem, system, () => new Map()),
        field,
        () => [] as number[],
      ).push(value);
    }
  }
  const groups: ConfigGroup[] = [];
  for (const [bench, configs] of tree) {
    for (const [config, classes] of configs) {
      const byClass: ConfigGroup["byClass"] = {};
      for (const [cls, systems] of classes) {
        byClass[cls] = [...systems].map(([system, fields]) => ({
          system,
          series: [...fields].map(([field, values]) => {
            const sorted = [...values].sort((a, b) => a - b);
            return {
              name: seriesName(field, cls),
              field,
              median: medianOf(sorted),
              min: sorted[0] as number,
              max: sorted[sorted.length - 1] as number,
              samples: sorted.length,
            };
          }),
        }));
      }
      groups.push({ bench, config, byClass });
    }
  }
  return groups;
}

function medianOf(sorted: readonly number[]): number {
  const mid = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
