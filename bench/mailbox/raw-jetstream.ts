import { randomBytes } from "node:crypto";
import { AckPolicy, jetstream, jetstreamManager, RetentionPolicy } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";

export interface RawJetStreamPlan {
  urls: string[];
  replicas: number;
  bodyBytes: number;
  /** Publishes awaiting their PubAck at once (the mailbox run's SENDs in flight). */
  inflight: number;
  /** Consumers, each fetching `recvMax` messages per pull. */
  consumers: number;
  recvMax: number;
  /** Publishers pause while this many messages are published and not yet acked. */
  maxBacklog: number;
  seconds: number;
}

const STREAM = "bench_raw";
const SUBJECT = "bench.raw";
const DURABLE = "bench";

/**
 * The JetStream floor for the mailbox's mixed load, with the same client library and nothing
 * around it: `inflight` publishes of `bodyBytes` bodies to one R(replicas) stream, each
 * awaiting its PubAck (stored on a quorum, like an answered SEND), and consumers that pull
 * batches of `recvMax` from one durable consumer and ack every message with a confirmed ack
 * (`ackAck`, answered like an ACK). The stream is a work queue, so an ack removes the message
 * as the mailbox's ACK does. `rows` counts messages acked within `seconds`.
 */
export async function rawJetStream(plan: RawJetStreamPlan): Promise<{ rows: number; seconds: number }> {
  const nc = await connect({ servers: plan.urls });
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  await jsm.streams.delete(STREAM).catch(() => false);
  await jsm.streams.add({
    name: STREAM,
    subjects: [SUBJECT],
    num_replicas: plan.replicas,
    retention: RetentionPolicy.Workqueue,
  });
  await jsm.consumers.add(STREAM, { durable_name: DURABLE, ack_policy: AckPolicy.Explicit });
  const consumer = await js.consumers.get(STREAM, DURABLE);
  const body = randomBytes(plan.bodyBytes);
  let published = 0;
  let acked = 0;
  let running = true;
  const started = process.hrtime.bigint();
  const until = started + BigInt(Math.round(plan.seconds * 1e9));
  const publish = async (): Promise<void> => {
    while (running) {
      if (published - acked >= plan.maxBacklog) {
        await new Promise((resolve) => setTimeout(resolve, 1));
        continue;
      }
      await js.publish(SUBJECT, body);
      published++;
    }
  };
  const consume = async (): Promise<void> => {
    while (running) {
      const batch = await consumer.fetch({ max_messages: plan.recvMax, expires: 1000 });
      const acks: Array<Promise<boolean>> = [];
      for await (const msg of batch) acks.push(msg.ackAck());
      const done = (await Promise.all(acks)).filter(Boolean).length;
      if (process.hrtime.bigint() < until) acked += done;
    }
  };
  const work = [
    ...Array.from({ length: plan.inflight }, publish),
    ...Array.from({ length: plan.consumers }, consume),
  ];
  try {
    while (process.hrtime.bigint() < until) await new Promise((resolve) => setTimeout(resolve, 20));
    const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
    running = false;
    await Promise.all(work);
    return { rows: acked, seconds: elapsed };
  } finally {
    await jsm.streams.delete(STREAM).catch(() => false);
    await nc.close();
  }
}
