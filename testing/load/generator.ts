import type { Meta } from "@omnigate/oap";
import { type ConnectOptions, connect, type OapClient, OapRequestError } from "@omnigate/sdk";
import { seededRandom } from "../support/seeded-random.js";
import { ArrivalHeap } from "./arrival-heap.js";
import { type FlowReport, FlowTally } from "./tally.js";

/** What one request of a flow asks for: its app, body size and meta. */
export interface LoadRequestKind {
  /** Default 0x0101, the node's echo. */
  appProtoId?: number;
  /** Request body size (default 64). */
  bodyBytes?: number;
  /** Request meta, e.g. `{ delay_ms: 200 }` to keep echo streams open. */
  meta?: Meta;
}

/** One entry of a flow's mix: each request picks an entry with probability weight ÷ Σ weights. */
export interface LoadMixEntry extends LoadRequestKind {
  weight: number;
}

/** One stream of requests at a set mean rate, for one tenant. */
export interface LoadFlow extends LoadRequestKind {
  /** Label in the report (default "tenant-0x…"). */
  name?: string;
  tenant: bigint;
  /** Requests started per second, whatever the replies do (open loop). */
  ratePerSec: number;
  /**
   * "fixed" (default): request k starts at k ÷ rate seconds. "poisson": exponential gaps of
   * mean 1 ÷ rate (independent arrivals, as many unrelated clients make), from the run's seed.
   */
  arrivals?: "fixed" | "poisson";
  /** Requests of several kinds (apps, bodies, meta); replaces appProtoId/bodyBytes/meta when set. */
  mix?: LoadMixEntry[];
}

export interface LoadOptions {
  url: string;
  /** Trust settings and the like for every connection (tenant is set per flow). */
  connect?: Omit<ConnectOptions, "tenant">;
  /** SDK clients (TLS connections) the flows' requests are spread across. */
  connections: number;
  flows: LoadFlow[];
  durationMs: number;
  /** Deadline of each call (default 5000 ms); it travels to the node. */
  deadlineMs?: number;
  /** Calls pending at once, above which new sends are skipped (and counted) to bound the generator's memory. */
  maxOutstanding?: number;
  /** How often due requests are sent (default 5 ms). */
  tickMs?: number;
  /** Called about once a second with the calls sent and settled so far. */
  onProgress?: (sent: number, settled: number) => void;
  /** Seed of Poisson gaps and mix choices (default 1): the same seed gives the same schedule. */
  seed?: number;
  /**
   * Called as each call ends: its flow's index, its mix entry's index (0 without a mix), the
   * code (the node's, or the client's own), the node's retry_after_ms if any, and its latency.
   */
  onSettled?: (
    flow: number,
    kind: number,
    code: number,
    retryAfterMs: number | undefined,
    latencyMs: number,
  ) => void;
}

export interface LoadReport {
  flows: FlowReport[];
  total: Omit<FlowReport, "flow" | "tenant" | "app_proto_id"> & { flow: "total" };
  duration_ms: number;
}

/** After the last send, how long past the deadline pending calls are awaited before counted as hung. */
const SETTLE_GRACE_MS = 2_000;

/**
 * An open-loop load generator on the SDK: each flow starts requests at its own rate,
 * spread round-robin over many connections, whether or not earlier ones were answered,
 * as real clients do; so a slow or refusing node sees the load it would see in
 * production, not one that politely backs off. Every call is tallied by outcome.
 */
export async function runLoad(options: LoadOptions): Promise<LoadReport> {
  const clients = await Promise.all(
    Array.from({ length: options.connections }, () =>
      connect(options.url, { ...options.connect, retry: { maxAttempts: 1 } }),
    ),
  );
  try {
    return await drive(clients, options);
  } finally {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
  }
}

async function drive(clients: OapClient[], options: LoadOptions): Promise<LoadReport> {
  const deadlineMs = options.deadlineMs ?? 5_000;
  const maxOutstanding = options.maxOutstanding ?? 100_000;
  const random = seededRandom(options.seed ?? 1);
  const kinds: LoadMixEntry[][] = options.flows.map((f) =>
    f.mix && f.mix.length > 0
      ? f.mix
      : [{ weight: 1, appProtoId: f.appProtoId, bodyBytes: f.bodyBytes, meta: f.meta }],
  );
  const cumulative = kinds.map((mix) => {
    const total = mix.reduce((n, k) => n + k.weight, 0);
    let acc = 0;
    return mix.map((k) => (acc += k.weight / total));
  });
  const tallies = options.flows.map(
    (f, i) =>
      new FlowTally(
        f.name ?? `tenant-0x${f.tenant.toString(16)}`,
        f.tenant,
        (kinds[i] as LoadMixEntry[])[0]?.appProtoId ?? 0x0101,
        f.ratePerSec,
      ),
  );
  // Bodies are shared by size: a thousand flows of 64-byte requests hold one buffer.
  const bodyBySize = new Map<number, Buffer>();
  const bodyOf = (size: number): Buffer => {
    let body = bodyBySize.get(size);
    if (!body) {
      body = Buffer.alloc(size, 0x61);
      bodyBySize.set(size, body);
    }
    return body;
  };
  const pending = new Set<Promise<void>>();
  let next = 0;

  const pick = (i: number): number => {
    const bounds = cumulative[i] as number[];
    if (bounds.length === 1) return 0;
    const u = random();
    for (let k = 0; k < bounds.length - 1; k++) if (u < (bounds[k] as number)) return k;
    return bounds.length - 1;
  };

  const send = (i: number): void => {
    const flow = options.flows[i] as LoadFlow;
    const tally = tallies[i] as FlowTally;
    if (pending.size >= maxOutstanding) {
      tally.skipped++;
      return;
    }
    const k = pick(i);
    const kind = (kinds[i] as LoadMixEntry[])[k] as LoadMixEntry;
    const client = clients[next++ % clients.length] as OapClient;
    tally.sent++;
    const began = performance.now();
    const onSettled = options.onSettled;
    const call = client
      .request(kind.appProtoId ?? 0x0101, {
        tenant: flow.tenant,
        meta: kind.meta,
        body: bodyOf(kind.bodyBytes ?? 64),
        deadlineMs,
      })
      .then(
        (reply) => {
          const ms = performance.now() - began;
          tally.ok(reply.code, ms);
          onSettled?.(i, k, reply.code, undefined, ms);
        },
        (err: unknown) => {
          const ms = performance.now() - began;
          tally.failed(err, ms);
          onSettled?.(i, k, codeOf(err), retryAfterOf(err), ms);
        },
      )
      .finally(() => pending.delete(call));
    pending.add(call);
  };

  // One schedule for every flow: a min-heap of each flow's next arrival (ms since start),
  // drained by one timer, so a thousand flows cost one timer and O(log n) per request.
  const schedule = new ArrivalHeap();
  const gap = (i: number): number => {
    const flow = options.flows[i] as LoadFlow;
    if (flow.arrivals === "poisson") return (-Math.log(1 - random()) * 1000) / flow.ratePerSec;
    return 1000 / flow.ratePerSec;
  };
  const nextArrival = (i: number, previous: number): number => {
    const flow = options.flows[i] as LoadFlow;
    if (flow.arrivals === "poisson") return previous + gap(i);
    // Fixed rate: the k-th request is due at k ÷ rate, without drift from summed gaps.
    const tally = tallies[i] as FlowTally;
    return ((tally.sent + tally.skipped + 1) * 1000) / flow.ratePerSec;
  };
  options.flows.forEach((flow, i) => {
    if (flow.ratePerSec > 0 && Number.isFinite(flow.ratePerSec)) schedule.push(gap(i), i);
  });

  const started = performance.now();
  let lastProgress = started;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const now = performance.now();
      const elapsed = Math.min(now - started, options.durationMs);
      while (schedule.size > 0 && schedule.peekAt() <= elapsed) {
        const [at, i] = schedule.pop();
        send(i);
        schedule.push(nextArrival(i, at), i);
      }
      if (options.onProgress && now - lastProgress >= 1_000) {
        lastProgress = now;
        options.onProgress(
          sum(tallies, (t) => t.sent),
          sum(tallies, (t) => t.settled),
        );
      }
      if (now - started >= options.durationMs) {
        clearInterval(timer);
        resolve();
      }
    }, options.tickMs ?? 5);
  });

  // Every call ends by its deadline (the SDK enforces it); whatever is still pending after it hangs.
  await Promise.race([Promise.all(pending), sleep(deadlineMs + SETTLE_GRACE_MS)]);
  const flows = tallies.map((t) => t.report());
  return { flows, total: totalOf(flows), duration_ms: Math.round(performance.now() - started) };
}

function totalOf(flows: FlowReport[]): LoadReport["total"] {
  const merge = (pick: (f: FlowReport) => Record<string, number>) => {
    const out: Record<string, number> = {};
    for (const f of flows) for (const [k, v] of Object.entries(pick(f))) out[k] = (out[k] ?? 0) + v;
    return out;
  };
  const retries = flows.map((f) => f.retry_after_ms).filter((r) => r !== null);
  const latencies = flows.map((f) => f.latency_ms).filter((l) => l !== null);
  return {
    flow: "total",
    rate_per_sec: flows.reduce((n, f) => n + f.rate_per_sec, 0),
    sent: flows.reduce((n, f) => n + f.sent, 0),
    settled: flows.reduce((n, f) => n + f.settled, 0),
    unsettled: flows.reduce((n, f) => n + f.unsettled, 0),
    skipped: flows.reduce((n, f) => n + f.skipped, 0),
    by_code: merge((f) => f.by_code),
    by_reason: merge((f) => f.by_reason),
    retry_after_ms:
      retries.length > 0
        ? { min: Math.min(...retries.map((r) => r.min)), max: Math.max(...retries.map((r) => r.max)) }
        : null,
    retry_after_missing: flows.reduce((n, f) => n + f.retry_after_missing, 0),
    // Percentiles do not merge; the total carries the worst flow's.
    latency_ms:
      latencies.length > 0
        ? {
            p50: Math.max(...latencies.map((l) => l.p50)),
            p99: Math.max(...latencies.map((l) => l.p99)),
            max: Math.max(...latencies.map((l) => l.max)),
          }
        : null,
  };
}

/**
 * The node's code for a refusal it sent; 0 for what the client saw on its own (a dropped
 * connection, its own deadline): those are not the node's 503s and are counted apart.
 */
function codeOf(err: unknown): number {
  return err instanceof OapRequestError ? err.code : 0;
}

function retryAfterOf(err: unknown): number | undefined {
  return err instanceof OapRequestError ? err.retryAfterMs : undefined;
}

function sum(tallies: FlowTally[], pick: (t: FlowTally) => number): number {
  return tallies.reduce((n, t) => n + pick(t), 0);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
