/**
 * What every leakage scenario runs on: a real Vest pilot (node process, world archive,
 * backend) and a TLS tap in front of the node's OAP/1 port. Victim connections go through
 * the tap, so their traces are what an on-path observer records; helper connections (the
 * chat peer) go straight to the node, unobserved.
 */
import { type ConnectOptions, connect, type OapClient } from "@omnigate/sdk";
import { VEST_TENANT } from "../../apps/vest/src/node-runner/vest-layout.js";
import { type RunningVest, startVest } from "../../apps/vest/src/start-vest.js";
import { tempDir } from "../support/temp-dir.js";
import { startTlsTap, type TappedConnection, type TlsTap } from "../support/tls-tap.js";

/** A client's traffic-shaping request (SDK option `shaping`), or none. */
export type Shaping = ConnectOptions["shaping"];

export interface LeakageRig {
  vest: RunningVest;
  tap: TlsTap;
  /** A client through the tap, and the tap's record of its connection. */
  observed(shaping: Shaping): Promise<{ client: OapClient; wire: TappedConnection }>;
  /** A client straight to the node. */
  direct(): Promise<OapClient>;
  close(): Promise<void>;
}

export interface LeakageRigOptions {
  /** Round-trip time between the observed clients and the node, added by the tap (default 0). */
  rttMs?: number;
  say?: (line: string) => void;
}

export async function startLeakageRig(options: LeakageRigOptions = {}): Promise<LeakageRig> {
  const say = options.say ?? (() => {});
  const dir = tempDir("leakage-");
  say("starting a Vest node and storing the world archive…");
  // Quotas far above what the scenarios ask: a 429 would be a signal of its own.
  const vest = await startVest({
    dir: dir.path,
    ports: { oap: 0, ws: 0, admin: 0, backend: 0, web: 0 },
    quotas: { storageRate: 1_000_000, mailboxRate: 1_000_000 },
  }).catch((err: unknown) => {
    dir.remove();
    throw err;
  });
  const nodeUrl = new URL(vest.oapUrl.replace("oap+tls:", "http:"));
  const tap = await startTlsTap(
    { host: nodeUrl.hostname, port: Number(nodeUrl.port) },
    { rttMs: options.rttMs ?? 0 },
  );
  const pending: TappedConnection[] = [];
  tap.onConnection((c) => pending.push(c));
  const base = { ca: vest.caPem, cap: vest.tenantCap, tenant: VEST_TENANT };
  // Connections are taken one at a time, so the tap's next accepted connection is this client's.
  let queue: Promise<unknown> = Promise.resolve();
  const observed = (shaping: Shaping) => {
    const next = queue.then(async () => {
      const before = pending.length;
      const client = await connect(`oap+tls://${tap.address.host}:${tap.address.port}`, {
        ...base,
        ...(shaping ? { shaping } : {}),
      });
      const wire = pending[before];
      if (!wire) throw new Error("the tap saw no connection for a client that connected through it");
      return { client, wire };
    });
    queue = next.catch(() => {});
    return next;
  };
  return {
    vest,
    tap,
    observed,
    direct: () => connect(vest.oapUrl, base),
    async close() {
      await tap.close();
      await vest.stop();
      dir.remove();
    },
  };
}
