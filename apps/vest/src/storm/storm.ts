import { type OapClient, OapClientError } from "@omnigate/sdk";
import { MAILBOX_APP_ID } from "../shared/protocol.js";

/** One flood: which rail, how fast, for how long. */
export interface StormPlan {
  /** Requests per second to aim at the rail (e.g. 20 × its quota). */
  ratePerSec: number;
  durationMs: number;
  /** Each call's own deadline: a refused or answered call must settle within it. */
  deadlineMs: number;
  /** Calls allowed in flight at once (beyond it the storm waits for room). */
  maxInflight?: number;
  /** Called once, at the first refusal: the quota is spent from then on. */
  onFirstRefusal?: () => void;
}

/** What the node answered, counted per outcome; a healthy node answers every call in time. */
export interface StormReport {
  rail: string;
  sent: number;
  ok: number;
  /** Refusals by code (429, 503). */
  refused: Record<string, number>;
  /** Refusals that named no retry_after_ms (a defect). */
  refusedWithoutRetryAfter: number;
  /** Calls that settled after their deadline, or timed out (a defect: a hang). */
  overDeadline: number;
  /** Any other failure, by reason. */
  failed: Record<string, number>;
  /** The slowest settle, ms. */
  maxSettleMs: number;
  elapsedMs: number;
}

/** The call a storm repeats. */
export type StormCall = (client: OapClient, deadlineMs: number) => Promise<unknown>;

/** A tiny range of the map archive: what a scraper of tiles costs the storage rail. */
export function storageRangeCall(addr: string): StormCall {
  return (client, deadlineMs) =>
    client.storage.getBytes(addr as `b3:${string}`, { range: "0-15", deadlineMs });
}

/** An empty receive on a storm topic: a mailbox request that stores nothing. */
export function mailboxRecvCall(topic: string): StormCall {
  return (client, deadlineMs) =>
    client.request(MAILBOX_APP_ID, { meta: { op: "recv", topic, max: 1 }, deadlineMs });
}

/**
 * Fires `call` at `ratePerSec` over several connections for `durationMs`, and records how
 * each call ended. It never retries: the point is to see what the node says under load.
 */
export async function runStorm(
  rail: string,
  clients: OapClient[],
  call: StormCall,
  plan: StormPlan,
  signal?: AbortSignal,
): Promise<StormReport> {
  const report: StormReport = {
    rail,
    sent: 0,
    ok: 0,
    refused: {},
    refusedWithoutRetryAfter: 0,
    overDeadline: 0,
    failed: {},
    maxSettleMs: 0,
    elapsedMs: 0,
  };
  const maxInflight = plan.maxInflight ?? 512;
  const started = performance.now();
  const pending = new Set<Promise<void>>();
  const tickMs = 10;
  let next = 0;
  for (;;) {
    const elapsed = performance.now() - started;
    if (elapsed >= plan.durationMs || signal?.aborted) break;
    // Owed calls follow the clock, not the tick count: a loop that wakes late (a busy machine)
    // catches up instead of quietly storming slower than planned.
    const owed = Math.floor((plan.ratePerSec * elapsed) / 1000) - report.sent;
    for (let i = 0; i < owed && pending.size < maxInflight; i++) {
      const client = clients[next++ % clients.length] as OapClient;
      const one = fire(client, call, plan.deadlineMs, report, plan.onFirstRefusal).finally(() =>
        pending.delete(one),
      );
      pending.add(one);
    }
    await new Promise((resolve) => setTimeout(resolve, tickMs));
  }
  await Promise.all(pending);
  report.elapsedMs = Math.round(performance.now() - started);
  return report;
}

async function fire(
  client: OapClient,
  call: StormCall,
  deadlineMs: number,
  report: StormReport,
  onFirstRefusal: (() => void) | undefined,
): Promise<void> {
  report.sent++;
  const t0 = performance.now();
  let timedOut = false;
  try {
    await call(client, deadlineMs);
    report.ok++;
  } catch (error) {
    if (error instanceof OapClientError && (error.code === 429 || error.code === 503)) {
      if (Object.keys(report.refused).length === 0) onFirstRefusal?.();
      report.refused[error.code] = (report.refused[error.code] ?? 0) + 1;
      if (error.retryAfterMs === undefined) report.refusedWithoutRetryAfter++;
    } else {
      const reason = error instanceof OapClientError ? error.reason : (error as Error).name;
      if (reason === "timeout") timedOut = true;
      else report.failed[reason] = (report.failed[reason] ?? 0) + 1;
    }
  } finally {
    const ms = performance.now() - t0;
    if (timedOut || ms > deadlineMs) report.overDeadline++;
    report.maxSettleMs = Math.max(report.maxSettleMs, Math.round(ms));
  }
}
