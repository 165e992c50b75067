import {
  DiscardPolicy,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";
import type { JetStreamNames } from "./jetstream-names.js";

const CAS_WINDOW_MS = 30_000;
const LEADER_WAIT_MS = 15_000;

export interface StreamLayout {
  names: JetStreamNames;
  replicas: number;
  dedupeWindowMs: number;
}

/**
 * Creates the engine's three streams when they are missing. All are file-backed with
 * `replicas` copies: JetStream answers a publish only once a quorum stored it, which is what
 * makes an answered SEND (and every state change) survive the loss of a server.
 */
export async function ensureStreams(jsm: JetStreamManager, layout: StreamLayout): Promise<void> {
  const { names, replicas, dedupeWindowMs } = layout;
  const common = {
    num_replicas: replicas,
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
  };
  await Promise.all([
    ensureStream(jsm, {
      ...common,
      name: names.messages,
      subjects: [names.tenantMessages()],
      // Nats-Msg-Id dedupe only closes the gap of a sender that died between storing a message
      // and recording its idempotency key; the key record decides duplicates (node clock).
      duplicate_window: nanos(dedupeWindowMs),
    }),
    ensureStream(jsm, {
      ...common,
      name: names.state,
      subjects: [`${names.prefix}.s.>`],
      max_msgs_per_subject: 1,
      // Compare-and-set leans on Nats-Msg-Id (jetstream-cas.ts): the window only has to
      // outlast a write's replication, and a short one keeps the server's id table small.
      duplicate_window: nanos(CAS_WINDOW_MS),
    }),
    ensureStream(jsm, {
      ...common,
      name: names.idem,
      subjects: [`${names.prefix}.i.>`],
      max_msgs_per_subject: 1,
      // Key records are read against the node clock; the server only drops them long after.
      max_age: nanos(2 * dedupeWindowMs + 60_000),
      duplicate_window: nanos(CAS_WINDOW_MS),
    }),
  ]);
}

async function ensureStream(jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string }) {
  const existing = await jsm.streams.info(config.name).catch(() => undefined);
  if (!existing) {
    await jsm.streams.add(config).catch(async (err: unknown) => {
      // Another node created it first: fine once it is there.
      await jsm.streams.info(config.name).catch(() => {
        throw err;
      });
    });
  }
  await waitForLeader(jsm, config.name);
}

/**
 * A stream another node has just created may have no leader yet, and requests to it then go
 * unanswered until they time out: wait for the election instead (it takes well under a second).
 */
async function waitForLeader(jsm: JetStreamManager, name: string): Promise<void> {
  const until = Date.now() + LEADER_WAIT_MS;
  for (;;) {
    const info = await jsm.streams.info(name).catch(() => undefined);
    if (info && (!info.cluster || info.cluster.leader)) return;
    if (Date.now() >= until) throw new Error(`stream ${name} has no leader after ${LEADER_WAIT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
