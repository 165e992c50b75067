import { connect, type OapClient } from "../../packages/sdk/src/index.js";
import type { ScaleOutCluster } from "./harness.js";
import { ClusterLoad, type LoadOp, type LoadRecord, sha256 } from "./load.js";

/** One fault injected under load, and how the load went through it. */
export interface KillPhase {
  /** What was SIGKILLed. */
  killed: string;
  /** When (epoch ms). */
  killedAt: number;
  /** Calls answered while the fault lasted. */
  answered: number;
  /**
   * Calls answered by kind from the kill to the next fault (the last: to the end of the load,
   * which runs on one more phase after the last restart): every rail must go on.
   */
  answeredByKind?: Record<LoadOp, number>;
  /**
   * For each kind of call, the longest time in the phase without one answered (ms): how long
   * that rail stalled. The SDK's failover is the stall of the node kill.
   */
  longestStallMs: Record<LoadOp, number>;
  /** Node kill only: from the kill to the first call answered by another node (ms). */
  failoverResumedMs?: number;
}

export interface KillReport {
  phases: KillPhase[];
  record: LoadRecord;
  answeredSends: number;
  /** Answered SENDs the subscription never received: must be empty. */
  lostSends: string[];
  storedObjects: number;
  /** Stored objects that could not be read back byte-exact (through another node): must be empty. */
  lostObjects: string[];
}

export interface KillOptions {
  /** How long the load runs before the first fault and during each fault (ms). */
  phaseMs: number;
  log?: (line: string) => void;
}

const OPS: LoadOp[] = ["echo", "send", "put", "get"];

/**
 * The kill tests of issue 19 on one running cluster: under a mixed load through one SDK client
 * (given only the first node's URL), SIGKILL in turn the Omnigate node the client is connected
 * to, one Swift storage node, and one NATS server, each restarted after its phase. Then every
 * answered SEND must reach the subscription and every stored object must read back intact.
 */
export async function runKillScenarios(cluster: ScaleOutCluster, options: KillOptions): Promise<KillReport> {
  const log = options.log ?? (() => {});
  const { omnigate } = cluster;
  const clientOptions = { ca: omnigate.caPem, cap: omnigate.devCap, connectTimeoutMs: 2_000 };
  const client = await connect(omnigate.urls[0] as string, {
    ...clientOptions,
    retry: { maxAttempts: 10, capMs: 1_000 },
  });
  const load = new ClusterLoad(client, { topic: `kill/${Date.now()}` });
  const connects: number[] = [];
  client.on("connect", () => connects.push(Date.now()));
  const phases: KillPhase[] = [];
  try {
    load.start();
    log(`load running for ${options.phaseMs} ms before the first kill`);
    await sleep(options.phaseMs);

    const nodeIndex = nodeIndexOf(client);
    phases.push(
      await phase(load, `omnigate node ${nodeIndex + 1} (the client's)`, options.phaseMs, log, {
        kill: () => omnigate.kill(nodeIndex),
        restart: () => omnigate.restart(nodeIndex),
        reconnectedAfter: (since) => connects.find((at) => at > since),
      }),
    );
    phases.push(
      await phase(load, "swift storage node 1", options.phaseMs, log, {
        kill: () => cluster.swift.killStorageNode(0),
        restart: () => cluster.swift.restartStorageNode(0),
      }),
    );
    phases.push(
      await phase(load, "nats server 1", options.phaseMs, log, {
        kill: () => cluster.nats.kill(0),
        restart: () => cluster.nats.restart(0),
      }),
    );
    // One more phase of load after the last restart, so every rail has room to resume.
    await sleep(options.phaseMs);
    const loadEnd = Date.now();
    phases.forEach((result, i) => {
      const to = phases[i + 1]?.killedAt ?? loadEnd;
      result.answeredByKind = Object.fromEntries(
        OPS.map((op) => [op, load.answeredBetween(op, result.killedAt, to)]),
      ) as Record<LoadOp, number>;
    });
    await load.stop();
    log("load stopped; waiting for every answered SEND to be received");
    const lostSends = await load.drained(60_000);
    const lostObjects = await unreadable(load, omnigate.urls, clientOptions);
    return {
      phases,
      record: load.record,
      answeredSends: load.answeredSends.size,
      lostSends,
      storedObjects: load.stored.size,
      lostObjects,
    };
  } finally {
    await load.stop();
    await client.close();
  }
}

async function phase(
  load: ClusterLoad,
  killed: string,
  phaseMs: number,
  log: (line: string) => void,
  fault: {
    kill(): Promise<void>;
    restart(): Promise<void>;
    /** When the client connected to another node after `since` (a node kill). */
    reconnectedAfter?: (since: number) => number | undefined;
  },
): Promise<KillPhase> {
  const answeredBefore = load.answered;
  const killedAt = Date.now();
  await fault.kill();
  log(`killed ${killed}`);
  await sleep(phaseMs);
  const endedAt = Date.now();
  const longestStallMs = Object.fromEntries(
    OPS.map((op) => [op, load.longestStall(op, killedAt, endedAt)]),
  ) as Record<LoadOp, number>;
  const result: KillPhase = {
    killed,
    killedAt,
    answered: load.answered - answeredBefore,
    longestStallMs,
  };
  // Calls in flight may be answered just before the process dies: traffic has resumed once a
  // call is answered over the new connection.
  const reconnectedAt = fault.reconnectedAfter?.(killedAt);
  const resumedAt = reconnectedAt === undefined ? undefined : load.firstAnswerAfter("echo", reconnectedAt);
  if (resumedAt !== undefined) result.failoverResumedMs = resumedAt - killedAt;
  await fault.restart();
  log(`restarted ${killed}: ${JSON.stringify(result)}`);
  return result;
}

/** The node the client is connected to, by its node_id (`node<i+1>` in the harness). */
function nodeIndexOf(client: OapClient): number {
  const match = /^node(\d+)$/.exec(client.hello.node_id);
  if (!match) throw new Error(`unexpected node_id ${client.hello.node_id}`);
  return Number(match[1]) - 1;
}

/** Reads every stored object back through the last node, verified chunk by chunk. */
async function unreadable(
  load: ClusterLoad,
  urls: string[],
  clientOptions: { ca: string; cap: string; connectTimeoutMs: number },
): Promise<string[]> {
  const reader = await connect(urls[urls.length - 1] as string, clientOptions);
  const lost: string[] = [];
  try {
    for (const [addr, digest] of load.stored) {
      const bytes = await reader.storage.getBytes(addr, { verify: "chunks" }).catch(() => undefined);
      if (!bytes || sha256(bytes) !== digest) lost.push(addr);
    }
  } finally {
    await reader.close();
  }
  return lost;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
