/**
 * Usage accounting in the node (docs/ledger.md): requests served are counted per tenant and
 * app; at the end of each epoch (and at a graceful stop) every pair with usage gets a settlement
 * record signed with the node's Ed25519 key and written under the ledger dir, for a rewarder
 * to verify and pay. With ledger.zk = on the record commits to the usage per slice of the
 * epoch and carries a proof that the slices are in range and sum to the total.
 *
 * Counting is a Map increment per request; everything else runs when a period closes, and
 * proofs in a worker thread. A node killed with SIGKILL loses the open period's counts (usage
 * is under-counted, never counted twice).
 */
import { basename, join } from "node:path";
import { performance } from "node:perf_hooks";
import type { StreamEndInfo } from "@omnigate/sdk/internal";
import type { Registry } from "prom-client";
import type { NodeConfig } from "../config/index.js";
import type { Logger } from "../log.js";
import { LedgerMetrics } from "./metrics.js";
import {
  appendStoredAddress,
  loadNodeKey,
  readLastPeriodEnd,
  writeLastPeriodEnd,
  writeRecord,
} from "./record-store.js";
import { isServedRequest } from "./served-request.js";
import { inlineSigner, type SettlementSigner, workerSigner } from "./settlement-signer.js";
import { type ClosedPeriod, epochEndAfter, UsageMeter } from "./usage-meter.js";

/** setTimeout's ceiling; longer waits are taken in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface NodeLedger {
  /** The node's settlement key id (Ed25519 public key, hex): what a rewarder trusts. */
  readonly nodeId: string;
  /** Where records are written (`<dir>/records/*.json`). */
  readonly dir: string;
  /** Counts a finished request (the session's streamEnded hook). */
  count(info: StreamEndInfo): void;
  /** Closes the open period now and writes its records (graceful stop). */
  close(): Promise<void>;
}

/** Where records can also go: the node's storage, in the record's tenant namespace. */
export type RecordStorage = (tenantId: bigint, bytes: Uint8Array) => Promise<string>;

export async function createNodeLedger(
  config: NodeConfig,
  registry: Registry,
  log: Logger,
  storage: RecordStorage,
): Promise<NodeLedger | undefined> {
  if (config.ledgerRecords === "off") return undefined;
  const dir = config.ledgerDir || join(config.dataDir, "ledger");
  const key = await loadNodeKey(dir);
  const mode = config.ledgerZk === "on" ? "zk" : "plain";
  const signer: SettlementSigner = mode === "zk" ? workerSigner(key) : inlineSigner(key);
  const metrics = new LedgerMetrics(registry);
  const epoch = config.ledgerEpochSeconds;
  const nowSeconds = () => Math.floor(Date.now() / 1000);
  // A restart within a closed period's last second must not reopen it (records are unique per start).
  const start = Math.max(nowSeconds(), await readLastPeriodEnd(dir));
  const meter = new UsageMeter(start, epochEndAfter(start, epoch), mode === "zk" ? config.ledgerParts : 1);
  let settling: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const settle = async (period: ClosedPeriod) => {
    try {
      await writeLastPeriodEnd(dir, period.end);
    } catch (error) {
      // Records can still be written; only a restart within this period would reopen it.
      log.error({ err: error, dir }, "ledger: could not keep the closed period's end");
    }
    for (const usage of period.usage) {
      const started = performance.now();
      try {
        const record = await signer.sign({
          tenant: usage.tenant.toString(),
          app: usage.app,
          epochStart: period.start,
          epochSeconds: period.end - period.start,
          parts: usage.parts,
          mode,
        });
        const path = await writeRecord(dir, record);
        metrics.written(mode, (performance.now() - started) / 1000);
        log.debug({ path, total: record.usage_total }, "settlement record written");
        if (config.ledgerStore === "on") {
          const addr = await storage(usage.tenant, new TextEncoder().encode(`${JSON.stringify(record)}\n`));
          await appendStoredAddress(dir, { file: basename(path), tenant: record.tenant, addr });
        }
      } catch (error) {
        metrics.failed(mode);
        log.error(
          { err: error, tenant: usage.tenant.toString(), app: usage.app },
          "settlement record failed",
        );
      }
    }
  };
  const closePeriod = (end: number) => {
    const period = meter.close(end, epochEndAfter(end, epoch));
    // settle() handles its own failures: one bad period never stops later ones from settling.
    settling = settling
      .then(() => settle(period))
      .catch((error) => log.error({ err: error }, "ledger: settling failed"));
    return settling;
  };
  const schedule = () => {
    const waitMs = Math.min(meter.period.end * 1000 - Date.now(), MAX_TIMER_MS);
    timer = setTimeout(
      () => {
        if (closed) return;
        if (Date.now() >= meter.period.end * 1000) closePeriod(meter.period.end);
        schedule();
      },
      Math.max(0, waitMs),
    );
    timer.unref();
  };
  schedule();
  log.info({ dir, node_key: key.nodeId, mode, epoch_seconds: epoch }, "ledger: settlement records on");

  return {
    nodeId: key.nodeId,
    dir,
    count(info) {
      if (closed || !isServedRequest(info)) return;
      meter.count(info.tenantId, info.appProtoId, info.endedAt);
    },
    async close() {
      if (closed) return settling;
      closed = true;
      clearTimeout(timer);
      // The open period ends now (at least one second long: a record's epoch is never empty).
      await closePeriod(Math.max(nowSeconds(), meter.period.start + 1));
      await signer.close();
    },
  };
}
