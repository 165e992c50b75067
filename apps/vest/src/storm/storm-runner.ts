import { connect, type OapClient } from "@omnigate/sdk";
import { mailboxRecvCall, runStorm, type StormReport, storageRangeCall } from "./storm.js";

/** Who storms what: the Vest tenant's own map rail, and a neighbouring tenant's mailbox. */
export interface StormTarget {
  /** oap+tls://… of the node. */
  nodeUrl: string;
  /** PEM of the node's CA. */
  ca: string;
  vestTenant: bigint;
  /** Tile range reads for the Vest tenant (UserCapIssuer.stormStorage). */
  vestStorageCap: Uint8Array;
  archiveAddr: string;
  /** The Vest tenant's storage quota, requests/s. */
  storageQuotaPerSec: number;
  /** Another tenant on the same node, with a mailbox capability. */
  neighbourTenant: bigint;
  neighbourCap: Uint8Array;
  /** Every tenant's mailbox quota, requests/s. */
  mailboxQuotaPerSec: number;
}

export interface StormOptions {
  /** Multiple of the quota to send (default 20). */
  factor?: number;
  durationMs?: number;
  /** Each storm call's deadline (default 2 s). */
  deadlineMs?: number;
  connections?: number;
  signal?: AbortSignal;
  /** Called once, when the node first refuses the Vest tenant's map reads. */
  onMapQuotaSpent?: () => void;
}

/**
 * Floods the node past its quotas on two rails at once: the Vest tenant's map range reads at
 * `factor` × its storage quota (a scraper inside the app: the map feels it and says so), and
 * a neighbouring tenant's mailbox at `factor` × the mailbox quota (the Vest chat, on its own
 * tenant's quota, must not feel it).
 */
export async function stormVest(target: StormTarget, options: StormOptions = {}): Promise<StormReport[]> {
  const factor = options.factor ?? 20;
  const durationMs = options.durationMs ?? 10_000;
  const deadlineMs = options.deadlineMs ?? 2_000;
  const open = (cap: Uint8Array, tenant: bigint, n: number): Promise<OapClient[]> =>
    Promise.all(Array.from({ length: n }, () => connect(target.nodeUrl, { ca: target.ca, cap, tenant })));
  const connections = options.connections ?? 4;
  const [storageClients, mailboxClients] = await Promise.all([
    open(target.vestStorageCap, target.vestTenant, connections),
    open(target.neighbourCap, target.neighbourTenant, connections),
  ]);
  try {
    return await Promise.all([
      runStorm(
        "vest storage",
        storageClients,
        storageRangeCall(target.archiveAddr),
        {
          ratePerSec: factor * target.storageQuotaPerSec,
          durationMs,
          deadlineMs,
          ...(options.onMapQuotaSpent ? { onFirstRefusal: options.onMapQuotaSpent } : {}),
        },
        options.signal,
      ),
      runStorm(
        "neighbour mailbox",
        mailboxClients,
        mailboxRecvCall("storm/flood"),
        { ratePerSec: factor * target.mailboxQuotaPerSec, durationMs, deadlineMs },
        options.signal,
      ),
    ]);
  } finally {
    await Promise.allSettled([...storageClients, ...mailboxClients].map((client) => client.close()));
  }
}
