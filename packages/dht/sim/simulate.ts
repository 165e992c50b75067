import { randomId, seededRandom } from "../src/index.js";
import { fillIdealTables } from "./ideal-tables.js";
import { SimNetwork, type SimNodeOptions } from "./network.js";

/** Concurrent publishes / joins. */
const BATCH = 20;

/** The hop definition, printed with every result. */
export const HOP_DEFINITION =
  "lookup-tree depth of the contact whose answer held the first provider record: 1 = a contact from the requester's own table, 2 = learnt from a depth-1 answer, ...; 0 = the requester's own store";

/** A timeout/hedging configuration compared by the simulation. */
export interface SimConfig {
  name: string;
  node: SimNodeOptions;
}

/** Per-contact adaptive timeouts (≤ 1 s) and adaptive hedging: the core's defaults. */
export const ADAPTIVE: SimConfig = { name: "adaptive+hedging", node: {} };

/** The baseline: a fixed 5 s timeout per call and no hedging. */
export const FIXED: SimConfig = {
  name: "fixed-5s,no-hedging",
  node: { contactTimeoutMs: 5000, adaptiveTimeouts: false, hedgeAfterMs: null },
};

/** Inputs of one simulation run. */
export interface SimParams {
  nodes: number;
  /** Fraction of nodes that leave without notice after publishing (as many fresh ones join). */
  churn: number;
  lookups: number;
  /** Keys published before churn; lookups ask for random ones. */
  keys: number;
  seed: number;
  /** Per-message loss probability. */
  loss: number;
  /** Earlier nodes each joiner bootstraps through. Default 3. */
  seedsPerJoin?: number;
  /** Buckets each joiner refreshes after its self-lookup (`DhtNodeOptions.refreshBuckets`). Default 16. */
  refreshBuckets?: number;
  /**
   * How the initial nodes get their tables: `bootstrap` (each joins through `seedsPerJoin`
   * earlier nodes, for real) or `ideal` (steady-state k-buckets drawn from the true population,
   * see ideal-tables.ts; fast at 10k). Nodes joining after churn always bootstrap. Default ideal.
   */
  initialTables?: "ideal" | "bootstrap";
  config: SimConfig;
  /** Progress lines (phase, counts, wall time). */
  progress?: (line: string) => void;
}

/** One configuration's figures: the JSON line the sim prints. */
export interface SimResult {
  config: string;
  initial_tables: "ideal" | "bootstrap";
  nodes: number;
  churn: number;
  loss: number;
  seed: number;
  keys: number;
  lookups: number;
  failures: number;
  failure_rate: number;
  hops_p50: number;
  hops_p95: number;
  hops_p99: number;
  hops_max: number;
  time_ms_p50: number;
  time_ms_p95: number;
  time_ms_p99: number;
  rpcs_p50: number;
  rpcs_p99: number;
  timeouts_mean: number;
  hedges_mean: number;
  mean_contacts: number;
  /** Virtual time the whole run took, hours (records live 24 h, and nothing is republished). */
  virtual_h: number;
  wall_s: number;
  hop_definition: string;
}

/** Nearest-rank percentile of an ascending array (0 for an empty one). */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] ?? 0;
}

/**
 * Builds a network (steady-state tables, or realistic joins: each node bootstraps through
 * `seedsPerJoin` random earlier nodes, a self-lookup then bucket refreshes), publishes `keys` provider records from
 * random nodes, applies churn (`churn × nodes` leave without notice, as many fresh nodes join
 * and bootstrap; no republish), then runs `lookups` sequential `findProviders` calls from random
 * live nodes for random published keys. A lookup fails when it finds no provider record.
 */
export async function simulate(params: SimParams): Promise<SimResult> {
  const wallStart = performance.now();
  const random = seededRandom(params.seed);
  const net = new SimNetwork(
    random,
    params.seed,
    { loss: params.loss },
    {
      refreshBuckets: params.refreshBuckets ?? 16,
      ...params.config.node,
    },
  );
  const progress = params.progress ?? (() => {});
  const tag = `[${params.config.name}]`;
  const wall = () => {
    // Under `node --expose-gc`, collect first so the heap figure is what is really retained.
    (globalThis as { gc?: () => void }).gc?.();
    return `${((performance.now() - wallStart) / 1000).toFixed(1)}s, heap ${Math.round(process.memoryUsage().heapUsed / 2 ** 20)} MiB`;
  };
  const pick = <T>(list: T[]): T => list[Math.floor(random() * list.length)] as T;
  const seedsPerJoin = params.seedsPerJoin ?? 3;
  const initialTables = params.initialTables ?? "ideal";

  /** Adds a node that bootstraps through random nodes of `known`, then lists it in `live`. */
  const join = async (known: number[], live: number[]) => {
    const index = net.addNode();
    const seeds = new Set<number>();
    while (seeds.size < Math.min(seedsPerJoin, known.length)) seeds.add(pick(known));
    if (seeds.size > 0) await net.node(index).bootstrap([...seeds].map((i) => net.node(i).self));
    live.push(index);
  };

  const main = async (): Promise<SimResult> => {
    const live: number[] = [];
    if (initialTables === "ideal") {
      progress(`${tag} ${params.nodes} nodes with steady-state tables (seed ${params.seed})`);
      for (let i = 0; i < params.nodes; i++) live.push(net.addNode());
      fillIdealTables(net, live, 20, random);
      progress(`${tag}   tables filled, ${wall()}`);
    } else {
      progress(`${tag} joining ${params.nodes} nodes by bootstrap (seed ${params.seed})`);
      for (let i = 0; i < params.nodes; i++) {
        await join(live, live);
        if ((i + 1) % Math.max(1, Math.floor(params.nodes / 5)) === 0) {
          progress(`${tag}   ${i + 1} joined, ${net.scheduler.executed} events, ${wall()}`);
        }
      }
    }

    progress(`${tag} publishing ${params.keys} keys`);
    const keys: Uint8Array[] = [];
    let accepted = 0;
    // In batches of 20 concurrent publishes, as a live network would (and so the virtual time
    // spent stays well inside the 24 h record TTL).
    for (let i = 0; i < params.keys; i += BATCH) {
      const batch: Promise<number>[] = [];
      for (let j = i; j < Math.min(params.keys, i + BATCH); j++) {
        const key = randomId(random);
        keys.push(key);
        batch.push(net.node(pick(live)).provide(key));
      }
      for (const n of await Promise.all(batch)) accepted += n;
    }
    progress(`${tag}   ${(accepted / Math.max(1, params.keys)).toFixed(1)} copies per key, ${wall()}`);

    const leaving = Math.round(params.churn * params.nodes);
    progress(`${tag} churn: ${leaving} nodes leave, ${leaving} join`);
    for (let i = 0; i < leaving; i++) {
      const at = Math.floor(random() * live.length);
      const [gone] = live.splice(at, 1);
      if (gone !== undefined) net.kill(gone);
    }
    // Joiners arrive in batches of 20 concurrent bootstraps (sequential joins with 5 s timeouts
    // would take longer in virtual time than the records' TTL).
    for (let i = 0; i < leaving; i += BATCH) {
      const before = [...live];
      const batch: Promise<void>[] = [];
      for (let j = i; j < Math.min(leaving, i + BATCH); j++) batch.push(join(before, live));
      await Promise.all(batch);
    }
    progress(`${tag}   ${live.length} live nodes, ${wall()}`);

    progress(`${tag} ${params.lookups} lookups`);
    const hops: number[] = [];
    const times: number[] = [];
    const rpcs: number[] = [];
    let failures = 0;
    let timeouts = 0;
    let hedges = 0;
    for (let i = 0; i < params.lookups; i++) {
      const requester = net.node(pick(live));
      const result = await requester.findProviders(pick(keys));
      times.push(result.elapsedMs);
      rpcs.push(result.rpcs);
      timeouts += result.timeouts;
      hedges += result.hedges;
      if (result.hops === null || result.providers.length === 0) failures++;
      else hops.push(result.hops);
    }
    progress(`${tag}   done, ${net.scheduler.executed} events, ${wall()}`);

    const asc = (a: number, b: number) => a - b;
    hops.sort(asc);
    times.sort(asc);
    rpcs.sort(asc);
    let contacts = 0;
    for (const i of live) contacts += net.node(i).table.size;
    const round = (x: number) => Math.round(x * 10) / 10;
    return {
      config: params.config.name,
      initial_tables: initialTables,
      nodes: params.nodes,
      churn: params.churn,
      loss: params.loss,
      seed: params.seed,
      keys: params.keys,
      lookups: params.lookups,
      failures,
      failure_rate: failures / Math.max(1, params.lookups),
      hops_p50: percentile(hops, 50),
      hops_p95: percentile(hops, 95),
      hops_p99: percentile(hops, 99),
      hops_max: hops[hops.length - 1] ?? 0,
      time_ms_p50: round(percentile(times, 50)),
      time_ms_p95: round(percentile(times, 95)),
      time_ms_p99: round(percentile(times, 99)),
      rpcs_p50: percentile(rpcs, 50),
      rpcs_p99: percentile(rpcs, 99),
      timeouts_mean: round((timeouts / Math.max(1, params.lookups)) * 100) / 100,
      hedges_mean: round((hedges / Math.max(1, params.lookups)) * 100) / 100,
      mean_contacts: Math.round(contacts / Math.max(1, live.length)),
      virtual_h: round(net.scheduler.now() / 3_600_000),
      wall_s: 0,
      hop_definition: HOP_DEFINITION,
    };
  };

  const result = await net.run(main());
  result.wall_s = Math.round((performance.now() - wallStart) / 100) / 10;
  return result;
}
