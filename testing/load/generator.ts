import type { Meta } from "@omnigate/oap";
import { type ConnectOptions, connect, type OapClient } from "@omnigate/sdk";
import { type FlowReport, FlowTally } from "./tally.js";

/** One stream of requests at a fixed rate, for one tenant and app. */
export interface LoadFlow {
  /** Label in the report (default "tenant-0x…"). */
  name?: string;
  tenant: bigint;
  /** Requests started per second, whatever the replies do (open loop). */
  ratePerSec: number;
  /** Default 0x0101, the node's echo. */
  appProtoId?: number;
  /** Request body size (default 64). */
  bodyBytes?: number;
  /** Request meta, e.g. `{ delay_ms: 200 }` to keep echo streams open. */
  meta?: Meta;
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
  const tallies = options.flows.map(
    (f) =>
      new FlowTally(
        f.name ?? `tenant-0x${f.tenant.toString(16)}`,
        f.tenant,
        f.appProtoId ?? 0x0101,
        f.ratePerSec,
      ),
  );
  const bodies = options.flows.map((f) => Buffer.alloc(f.bodyBytes ?? 64, 0x61));
  const pending = new Set<Promise<void>>();
  let next = 0;

  const send = (i: number): void => {
    const flow = options.flows[i] as LoadFlow;
    const tally = tallies[i] as FlowTally;
    if (pending.size >= maxOutstanding) {
      tally.skipped++;
      return;
    }
    const client = clients[next++ % clients.length] as OapClient;
    tally.sent++;
    const began = performance.now();
    const call = client
      .request(tally.appProtoId, { tenant: flow.tenant, meta: flow.meta, body: bodies[i], deadlineMs })
      .then(
        (reply) => tally.ok(reply.code, performance.now() - began),
        (err: unknown) => tally.failed(err, performance.now() - began),
      )
      .finally(() => pending.delete(call));
    pending.add(call);
  };

  const started = performance.now();
  let lastProgress = started;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const now = performance.now();
      const elapsed = Math.min(now - started, options.durationMs);
      options.flows.forEach((flow, i) => {
        const due = Math.floor((elapsed * flow.ratePerSec) / 1000);
        const tally = tallies[i] as FlowTally;
        while (tally.sent + tally.skipped < due) send(i);
      });
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

function sum(tallies: FlowTally[], pick: (t: FlowTally) => number): number {
  return tallies.reduce((n, t) => n + pick(t), 0);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
