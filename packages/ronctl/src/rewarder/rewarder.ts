/**
 * The rewarder: verifies the settlement records nodes write and pays each at most once. It
 * reads `*.json` files from a records directory (files a node renamed into place, so never
 * half-written), skips files it handled before, verifies the rest against the trusted node
 * keys and pays `usage_total × rate` through PayoutDb, whose single transaction per record is
 * what makes a crash (SIGKILL included) harmless.
 */
import { createHash } from "node:crypto";
import { constants } from "node:fs";
import { lstat, open, readdir } from "node:fs/promises";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { SettlementError, type SettlementRecord, verifySettlement } from "@omnigate/ledger";
import type { RewarderMetrics } from "./metrics.js";
import type { Outcome, PayoutDb } from "./payout-db.js";

/** A record is a few KiB at most (a 64-part proof is under 5 KiB); bigger files are refused. */
const MAX_RECORD_FILE_BYTES = 64 * 1024;

export interface RewarderOptions {
  recordsDir: string;
  db: PayoutDb;
  trustedNodes: ReadonlySet<string>;
  /** Amount paid per unit of usage. */
  rate: number;
  metrics: RewarderMetrics;
  /**
   * Files this process handled, by name → size and mtime: a later pass skips them with one
   * stat instead of reading and hashing each again. Kept in memory only, so a refusal for an
   * untrusted node (which the database does not keep) is looked at again after a restart with
   * a longer --trust list.
   */
  seen: Map<string, string>;
  /** Called once per file handled, with what happened to it. */
  onRecord?: (event: RecordEvent) => void;
}

export interface RecordEvent {
  file: string;
  outcome: Exclude<Outcome, "overlapping">;
  recordId?: string;
  amount?: number;
  reason?: string;
  message?: string;
  verifyMs?: number;
}

/** One pass over the records directory; returns what it did. */
export async function settleRecords(options: RewarderOptions): Promise<RecordEvent[]> {
  const names = (await readdir(options.recordsDir))
    .filter((n) => n.endsWith(".json") && !n.startsWith("."))
    .sort();
  const events: RecordEvent[] = [];
  for (const name of names) {
    const path = join(options.recordsDir, name);
    const version = await fileVersion(path);
    if (version === undefined || options.seen.get(name) === version) continue;
    const read = await readRecordFile(path);
    if (read === "gone") continue;
    options.seen.set(name, version);
    if (options.db.isProcessed(read.digest)) continue;
    const event =
      "bytes" in read
        ? settleOne(name, read.bytes, read.digest, options)
        : refuse(name, read.digest, "malformed", read.problem, options);
    events.push(event);
    options.onRecord?.(event);
    if (event.outcome === "paid" && event.amount !== undefined) options.metrics.paid(event.amount);
  }
  return events;
}

/** Size and mtime of the directory entry (not followed), or undefined once it is gone. */
async function fileVersion(path: string): Promise<string | undefined> {
  try {
    const st = await lstat(path);
    return `${st.size}:${st.mtimeMs}`;
  } catch {
    return undefined;
  }
}

type ReadResult = { bytes: Buffer; digest: string } | { problem: string; digest: string } | "gone";

/**
 * Reads one record file without following links or blocking on special files, at most one
 * byte past the size limit. A file removed since the listing is "gone"; anything else that is
 * not a readable regular file of bounded size is a problem, keyed by its name and the reason.
 */
async function readRecordFile(path: string): Promise<ReadResult> {
  const problem = (what: string) => ({
    problem: what,
    digest: createHash("sha256").update(`${path}\0${what}`).digest("hex"),
  });
  let file: Awaited<ReturnType<typeof open>>;
  try {
    file = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === "ENOENT" ? "gone" : problem(`cannot open the file (${code})`);
  }
  try {
    if (!(await file.stat()).isFile()) return problem("not a regular file");
    const buffer = Buffer.alloc(MAX_RECORD_FILE_BYTES + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await file.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > MAX_RECORD_FILE_BYTES) return problem(`the file is over ${MAX_RECORD_FILE_BYTES} bytes`);
    }
    const bytes = buffer.subarray(0, length);
    return { bytes, digest: createHash("sha256").update(bytes).digest("hex") };
  } catch (error) {
    return problem(`cannot read the file (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  } finally {
    await file.close();
  }
}

function settleOne(name: string, bytes: Buffer, digest: string, options: RewarderOptions): RecordEvent {
  let record: unknown;
  try {
    record = JSON.parse(bytes.toString("utf8"));
  } catch {
    return refuse(name, digest, "malformed", "the file is not JSON", options);
  }
  const mode = (record as { mode?: unknown } | null)?.mode === "zk" ? "zk" : "plain";
  const started = performance.now();
  let verified: ReturnType<typeof verifySettlement>;
  try {
    verified = verifySettlement(record, options.trustedNodes);
  } catch (error) {
    if (!(error instanceof SettlementError)) throw error;
    options.metrics.checked("invalid", mode, (performance.now() - started) / 1000);
    if (error.reason === "unknown_node") {
      options.metrics.invalid(error.reason);
      return { file: name, outcome: "rejected", reason: error.reason, message: error.message };
    }
    return refuse(name, digest, error.reason, error.message, options);
  }
  const verifyMs = performance.now() - started;
  const r = record as SettlementRecord;
  const amount = verified.total * options.rate;
  if (!Number.isSafeInteger(amount)) {
    return refuse(
      name,
      digest,
      "malformed",
      `the amount ${verified.total} × ${options.rate} is past 2^53`,
      options,
    );
  }
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
  if (outcome === "overlapping") {
    options.metrics.checked("invalid", mode, verifyMs / 1000);
    return refuse(
      name,
      digest,
      "overlapping_period",
      "the node was already paid for this tenant and app over a period that overlaps this one",
      options,
    );
  }
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
