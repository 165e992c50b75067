/**
 * The rewarder: verifies the settlement records nodes write and pays each at most once. It
 * reads `*.json` files from a records directory (files a node renamed into place, so never
 * half-written), skips files it handled before, verifies the rest against the trusted node
 * keys and pays `usage_total × rate` through PayoutDb, whose single transaction per record is
 * what makes a crash (SIGKILL included) harmless.
 */
import { createHash } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { SettlementError, type SettlementRecord, verifySettlement } from "@omnigate/ledger";
import type { RewarderMetrics } from "./metrics.js";
import type { Outcome, PayoutDb } from "./payout-db.js";

/** A record is a few KiB at most (a 64-part proof is under 5 KiB); bigger files are refused unread. */
const MAX_RECORD_FILE_BYTES = 64 * 1024;

export interface RewarderOptions {
  recordsDir: string;
  db: PayoutDb;
  trustedNodes: ReadonlySet<string>;
  /** Amount paid per unit of usage. */
  rate: number;
  metrics: RewarderMetrics;
  /** Called once per file handled, with what happened to it. */
  onRecord?: (event: RecordEvent) => void;
}

export interface RecordEvent {
  file: string;
  outcome: Outcome;
  recordId?: string;
  amount?: number;
  reason?: string;
  message?: string;
  verifyMs?: number;
}

/** One pass over the records directory; returns what it did. */
export async function settleRecords(options: RewarderOptions): Promise<RecordEvent[]> {
  const { recordsDir, db, metrics } = options;
  const names = (await readdir(recordsDir)).filter((n) => n.endsWith(".json") && !n.startsWith(".")).sort();
  const events: RecordEvent[] = [];
  for (const name of names) {
    const path = join(recordsDir, name);
    const size = (await stat(path)).size;
    const bytes = size > MAX_RECORD_FILE_BYTES ? undefined : await readFile(path);
    const digest = createHash("sha256")
      .update(bytes ?? `${name}:${size}`)
      .digest("hex");
    if (db.isProcessed(digest)) continue;
    const event = bytes
      ? settleOne(name, bytes, digest, options)
      : refuse(
          name,
          digest,
          "malformed",
          `the file is ${size} bytes, more than ${MAX_RECORD_FILE_BYTES}`,
          options,
        );
    events.push(event);
    options.onRecord?.(event);
    if (event.outcome === "paid" && event.amount !== undefined) metrics.paid(event.amount);
  }
  return events;
}

function settleOne(name: string, bytes: Buffer, digest: string, options: RewarderOptions): RecordEvent {
  let record: unknown;
  try {
    record = JSON.parse(bytes.toString("utf8"));
  } catch {
    return refuse(name, digest, "malformed", "the file is not JSON", options);
  }
  const mode = (record as { mode?: unknown })?.mode === "zk" ? "zk" : "plain";
  const started = performance.now();
  let verified: ReturnType<typeof verifySettlement>;
  try {
    verified = verifySettlement(record, options.trustedNodes);
  } catch (error) {
    if (!(error instanceof SettlementError)) throw error;
    options.metrics.checked("invalid", mode, (performance.now() - started) / 1000);
    return refuse(name, digest, error.reason, error.message, options);
  }
  const verifyMs = performance.now() - started;
  const r = record as SettlementRecord;
  const amount = verified.total * options.rate;
  const outcome = options.db.pay(
    {
      recordId: verified.recordId,
      nodeId: r.node_id,
      tenant: r.tenant,
      app: r.app,
      epochStart: r.epoch_start,
      epochSeconds: r.epoch_seconds,
      usageTotal: r.usage_total,
      mode: r.mode,
      amount,
    },
    name,
    digest,
  );
  options.metrics.checked(outcome === "paid" ? "valid" : "replayed", mode, verifyMs / 1000);
  return {
    file: name,
    outcome,
    recordId: verified.recordId,
    ...(outcome === "paid" ? { amount } : {}),
    verifyMs: Math.round(verifyMs * 100) / 100,
  };
}

function refuse(
  name: string,
  digest: string,
  reason: string,
  message: string,
  options: RewarderOptions,
): RecordEvent {
  options.db.reject(digest, name, reason, message);
  options.metrics.invalid(reason);
  return { file: name, outcome: "rejected", reason, message };
}
