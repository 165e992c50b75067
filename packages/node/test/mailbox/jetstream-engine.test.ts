import { randomUUID } from "node:crypto";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { OapError } from "@omnigate/oap";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type NatsCluster, startNatsCluster } from "../../../../testing/support/nats-cluster.js";
import { ManualClock } from "../../src/mailbox/clock.js";
import type { Delivery } from "../../src/mailbox/engine.js";
import { JetStreamEngine } from "../../src/mailbox/jetstream-engine.js";
import { JetStreamNames } from "../../src/mailbox/jetstream-names.js";
import { mailboxEngineSuite, SUITE_RULES } from "./engine-suite.js";

let cluster: NatsCluster;
beforeAll(async () => {
  const started = Date.now();
  cluster = await startNatsCluster({ nodes: 3 });
  console.info(`nats cluster of 3 ready in ${Date.now() - started} ms`);
}, 30_000);
afterAll(async () => {
  await cluster?.stop();
});

/**
 * Removes a test's streams, so the cluster does not carry every test's R3 streams to the end.
 * Best effort: right after a test killed a server the cluster may still be electing its
 * JetStream leader, so nothing here waits for an API check or fails the test.
 */
async function dropStreams(prefix: string): Promise<void> {
  const names = new JetStreamNames(prefix);
  const nc = await connect({ servers: cluster.urls });
  try {
    const jsm = await jetstreamManager(nc, { checkAPI: false });
    for (const stream of [names.messages, names.state, names.idem]) {
      await jsm.streams.delete(stream).catch(() => false);
    }
  } finally {
    await nc.close();
  }
}

mailboxEngineSuite(
  "jetstream (3 servers, R3)",
  async (rules, clock) => {
    // Streams per test: tests share the cluster, never each other's messages or state.
    const streamPrefix = `t${randomUUID().replaceAll("-", "")}`;
    const open = () =>
      new JetStreamEngine({ ...rules, urls: cluster.urls, replicas: 3, streamPrefix, clock });
    const subject = {
      engine: open(),
      async reopen() {
        await subject.engine.close();
        subject.engine = open();
        return subject.engine;
      },
      async cleanup() {
        await subject.engine.close();
        await dropStreams(streamPrefix);
      },
    };
    return subject;
  },
  true,
);

const T1 = "0000000000000000000000000000000a";
const body = (text: string): Uint8Array => new TextEncoder().encode(text);

/** What sharing one R3 cluster brings on top of the shared rules: several nodes, a server lost. */
describe("mailbox engine: jetstream across nodes and server loss", () => {
  let streamPrefix: string;
  const engines: JetStreamEngine[] = [];
  /** An engine on this test's streams; `maxStateBytes` shrinks the topic record's limit. */
  const open = (clock?: ManualClock, maxStateBytes?: number): JetStreamEngine => {
    const engine = new JetStreamEngine({
      ...SUITE_RULES,
      // Room for every send of these tests: the depth limit is the suite's business.
      maxDepthPerTenant: 10_000,
      urls: cluster.urls,
      replicas: 3,
      streamPrefix,
      clock,
      maxStateBytes,
    });
    engines.push(engine);
    return engine;
  };

  beforeEach(() => {
    streamPrefix = `x${randomUUID().replaceAll("-", "")}`;
  });
  afterEach(async () => {
    for (const engine of engines.splice(0)) await engine.close();
    await dropStreams(streamPrefix);
  });

  it("answers the same msg_id for one idempotency key sent through two nodes, also at the same moment", async () => {
    // The two nodes' clocks differ (within the dedupe window): a key's msg_id must come from
    // its first copy, never from the clock of whichever node wrote the record.
    const [a, b] = [open(new ManualClock()), open(new ManualClock(1_700_000_000_000 + 3_000))];
    const first = await a.send({ tenant: T1, topic: "t", body: body("x"), idemKey: "k" });
    expect(await b.send({ tenant: T1, topic: "t", body: body("x"), idemKey: "k" })).toEqual({
      msgId: first.msgId,
      duplicate: true,
    });
    // Six senders per key, through both nodes, for eight keys at once: each key has one msg_id,
    // and one SEND answered as new, whichever node won (and whichever recorded the key first).
    // A SEND the loaded cluster did not answer in time (503) is sent again, as the SDK does:
    // if its first try stored the message, the retry is rightly a duplicate, so such a key may
    // have no SEND answered as new, never two.
    const keys = Array.from({ length: 8 }, (_, k) => `race-${k}`);
    let retried = 0;
    const sendRetrying = async (engine: JetStreamEngine, key: string) => {
      const input = { tenant: T1, topic: "t", body: body(key), idemKey: key };
      try {
        return await engine.send(input);
      } catch (err) {
        if (!(err instanceof OapError) || err.reason !== "not_ready") throw err;
        retried++;
        return engine.send(input);
      }
    };
    const racing = await Promise.all(
      keys.map((key) => Promise.all(Array.from({ length: 6 }, (_, i) => sendRetrying(i % 2 ? a : b, key)))),
    );
    for (const [k, answers] of racing.entries()) {
      expect(new Set(answers.map((r) => r.msgId)).size, keys[k]).toBe(1);
      const news = answers.filter((r) => !r.duplicate).length;
      if (retried === 0) expect(news, keys[k]).toBe(1);
      else expect(news, keys[k]).toBeLessThanOrEqual(1);
    }
    // One message per key is stored.
    const got = await a.recv({ tenant: T1, topic: "t", max: 20, visibilityMs: 1000, waitMs: 0 });
    expect(got.map((d) => d.msgId).sort()).toEqual([first.msgId, ...racing.map((r) => r[0]?.msgId)].sort());
  }, 60_000);

  it("never delivers a message another node deleted before its first delivery, though it kept a copy", async () => {
    const clock = new ManualClock();
    const [a, b] = [open(clock), open(clock)];
    const gone = await a.send({ tenant: T1, topic: "t", body: body("gone") });
    const kept = await a.send({ tenant: T1, topic: "t", body: body("kept") });
    expect(await b.delete(T1, gone.msgId, "t")).toBe(true);
    // a stored both and reads them from its own copies: the topic's state says which is gone.
    const got = await a.recv({ tenant: T1, topic: "t", max: 10, visibilityMs: 1000, waitMs: 0 });
    expect(got.map((d) => d.msgId)).toEqual([kept.msgId]);
    expect(await a.depth()).toEqual({ ready: 0, inflight: 1, delayed: 0, dlq: 0 });
  });

  it("takes acked messages out of the stream: with the ACK below the topic's floor, after a hold above it", async () => {
    const clock = new ManualClock();
    const engine = open(clock);
    const names = new JetStreamNames(streamPrefix);
    const nc = await connect({ servers: cluster.urls });
    const storedCount = async (): Promise<number> =>
      (await (await jetstreamManager(nc)).streams.info(names.messages)).state.messages;
    try {
      for (const text of ["1", "2", "3"]) await engine.send({ tenant: T1, topic: "t", body: body(text) });
      const [first, second, third] = await engine.recv({
        tenant: T1,
        topic: "t",
        max: 3,
        visibilityMs: 60_000,
        waitMs: 0,
      });
      // The two later ones are acked while the first is still out: they wait for the floor,
      // stored but no longer counted.
      await engine.ack({ tenant: T1, receipt: second?.receipt ?? "" });
      await engine.ack({ tenant: T1, receipt: third?.receipt ?? "" });
      expect(await storedCount()).toBe(3);
      expect(await engine.depth()).toEqual({ ready: 0, inflight: 1, delayed: 0, dlq: 0 });
      // Past the hold they are removed one by one.
      clock.advance(1000);
      await expect.poll(storedCount, { timeout: 5_000 }).toBe(1);
      // Acking the oldest raises the floor: its purge is done when the ACK is answered.
      await engine.ack({ tenant: T1, receipt: first?.receipt ?? "" });
      expect(await storedCount()).toBe(0);
      expect(await engine.depth()).toEqual({ ready: 0, inflight: 0, delayed: 0, dlq: 0 });
    } finally {
      await nc.close();
    }
  });

  it("answers every ACK while depth is read alongside, however the counts overlap", async () => {
    const engine = open(new ManualClock());
    for (let i = 0; i < 150; i++) await engine.send({ tenant: T1, topic: "t", body: body(`${i}`) });
    const leased = await engine.recv({ tenant: T1, topic: "t", max: 150, visibilityMs: 60_000, waitMs: 0 });
    expect(leased).toHaveLength(150);
    let acking = true;
    // Three readers, so counts overlap all the time: removals must still get their rounds.
    const reads = Promise.all(
      [0, 1, 2].map(async () => {
        while (acking) await engine.depth();
      }),
    );
    // Out of order and in small groups, so rounds of removal overlap the counts.
    const order = leased.map((_, i) => i).sort((a, b) => (a % 7) - (b % 7) || a - b);
    for (let at = 0; at < order.length; at += 10) {
      await Promise.all(
        order.slice(at, at + 10).map((i) => engine.ack({ tenant: T1, receipt: leased[i]?.receipt ?? "" })),
      );
    }
    acking = false;
    await reads;
    expect(await engine.depth()).toEqual({ ready: 0, inflight: 0, delayed: 0, dlq: 0 });
  });

  it("keeps a topic's state record within its size limit: RECV leases what fits, then says it is full", async () => {
    const limit = 2048;
    const engine = open(new ManualClock(), limit);
    for (let i = 0; i < 60; i++) await engine.send({ tenant: T1, topic: "t", body: body(`${i}`) });
    const recv = () => engine.recv({ tenant: T1, topic: "t", max: 60, visibilityMs: 60_000, waitMs: 0 });
    // Each RECV leases what still fits, until nothing does and the topic says so.
    const first: Delivery[] = [];
    let refused: unknown;
    for (let round = 0; round < 60 && refused === undefined; round++) {
      await recv().then(
        (got) => first.push(...got),
        (error: unknown) => {
          refused = error;
        },
      );
    }
    expect(first.length).toBeGreaterThan(0);
    expect(first.length).toBeLessThan(60);
    expect(refused).toBeInstanceOf(OapError);
    expect([(refused as OapError).code, (refused as OapError).reason]).toEqual([429, "quota"]);
    expect((refused as OapError).message).toMatch(/delivery state is full/);
    const names = new JetStreamNames(streamPrefix);
    const nc = await connect({ servers: cluster.urls });
    try {
      const record = await (await jetstreamManager(nc)).streams.getMessage(names.state, {
        last_by_subj: names.stateSubject(T1, "t"),
      });
      expect(record?.data.byteLength).toBeLessThanOrEqual(limit);
    } finally {
      await nc.close();
    }
    // Settling makes room again, and nothing was lost meanwhile.
    for (const d of first) await engine.ack({ tenant: T1, receipt: d.receipt });
    const next = await recv();
    expect(next.length).toBeGreaterThan(0);
    expect(next[0]?.body).toEqual(body(String(first.length)));
  });

  it("turns leases that run out near the size limit into dead letters, which can then be purged", async () => {
    const clock = new ManualClock();
    const engine = open(clock, 2048);
    for (let i = 0; i < 60; i++) await engine.send({ tenant: T1, topic: "t", body: body(`${i}`) });
    // Consumers that never settle: every lease runs out, attempt after attempt, with the
    // record kept full of leases.
    const refusals: string[] = [];
    for (let round = 0; round < 4 * SUITE_RULES.maxAttempts; round++) {
      for (let i = 0; i < 20; i++) {
        const got = await engine
          .recv({ tenant: T1, topic: "t", max: 60, visibilityMs: 1000, waitMs: 0 })
          .catch((error: unknown) => {
            refusals.push((error as OapError).reason);
            return undefined;
          });
        if (got === undefined || got.length === 0) break;
      }
      clock.advance(1001);
    }
    expect(new Set(refusals)).toEqual(new Set(["quota"]));
    // The last attempts ran out: those messages are dead letters now, listed and purgeable.
    const dead = await engine.dlqList(T1, "t", 100);
    expect(dead.length).toBeGreaterThan(0);
    expect(await engine.dlqPurge(T1, "t")).toBe(dead.length);
    const next = await engine.recv({ tenant: T1, topic: "t", max: 5, visibilityMs: 1000, waitMs: 0 });
    expect(next.length).toBeGreaterThan(0);
  });

  it("keeps redelivering near the size limit when consumers NACK everything, until the messages die", async () => {
    const engine = open(new ManualClock(), 2048);
    for (let i = 0; i < 60; i++) await engine.send({ tenant: T1, topic: "t", body: body(`${i}`) });
    let delivered = 0;
    for (let round = 0; round < 6 * SUITE_RULES.maxAttempts; round++) {
      const got = await engine
        .recv({ tenant: T1, topic: "t", max: 60, visibilityMs: 60_000, waitMs: 0 })
        .catch(() => []);
      delivered += got.length;
      for (const d of got)
        await engine.nack({ tenant: T1, receipt: d.receipt }, 0, `consumer failed: ${"x".repeat(200)}`);
    }
    expect(delivered).toBeGreaterThan(0);
    // Every NACKed message went round until its last attempt: dead letters, which can go.
    const dead = await engine.dlqList(T1, "t", 100);
    expect(dead.length).toBeGreaterThan(0);
    expect(await engine.dlqPurge(T1, "t")).toBe(dead.length);
    expect(
      (await engine.recv({ tenant: T1, topic: "t", max: 5, visibilityMs: 1000, waitMs: 0 })).length,
    ).toBe(5);
  });

  it("drops its copies of sent messages when another node makes the message stream anew", async () => {
    const clock = new ManualClock();
    const a = open(clock);
    for (const text of ["old-1", "old-2", "old-3"])
      await a.send({ tenant: T1, topic: "t", body: body(text) });
    await dropStreams(streamPrefix);
    // Another node finds the streams gone and makes them again: sequences start over.
    const b = open(clock);
    for (const text of ["new-1", "new-2", "new-3"])
      await b.send({ tenant: T1, topic: "t", body: body(text) });
    await expect
      .poll(async () => {
        const got = await a.recv({ tenant: T1, topic: "t", max: 10, visibilityMs: 60_000, waitMs: 0 });
        return got.map((d) => new TextDecoder().decode(d.body));
      })
      .toEqual(["new-1", "new-2", "new-3"]);
  });

  it("never lets two nodes hold a live lease on one message", async () => {
    // One clock for both and no time passing: every lease stays live, so a message handed
    // out twice would be a double lease.
    const clock = new ManualClock();
    const [a, b] = [open(clock), open(clock)];
    const sent = new Set<string>();
    for (let i = 0; i < 40; i++)
      sent.add((await a.send({ tenant: T1, topic: "t", body: body(`${i}`) })).msgId);
    const leased: string[] = [];
    const drain = async (engine: JetStreamEngine) => {
      for (;;) {
        const got = await engine.recv({ tenant: T1, topic: "t", max: 3, visibilityMs: 60_000, waitMs: 0 });
        if (got.length === 0) return;
        leased.push(...got.map((d) => d.msgId));
      }
    };
    await Promise.all([drain(a), drain(b), drain(a), drain(b)]);
    expect(leased).toHaveLength(sent.size);
    expect(new Set(leased)).toEqual(sent);
  });

  it("settles and redelivers across nodes whose own view of the topic is out of date", async () => {
    const clock = new ManualClock();
    const [a, b] = [open(clock), open(clock)];
    const recv = (engine: JetStreamEngine) =>
      engine.recv({ tenant: T1, topic: "t", max: 10, visibilityMs: 60_000, waitMs: 0 });
    // b looks at the topic first, so it holds a view of it from before a's changes.
    expect(await recv(b)).toEqual([]);
    const sent = await a.send({ tenant: T1, topic: "t", body: body("m") });
    const [first] = await recv(a);
    expect(first?.msgId).toBe(sent.msgId);
    // a's lease is live for b too, and b can NACK it by its receipt.
    expect(await recv(b)).toEqual([]);
    await b.nack({ tenant: T1, receipt: first?.receipt ?? "" }, 0);
    const [second] = await recv(a);
    expect(second?.attempt).toBe(2);
    await b.ack({ tenant: T1, receipt: second?.receipt ?? "" });
    expect(await recv(a)).toEqual([]);
    expect(await recv(b)).toEqual([]);
    expect(await b.depth()).toEqual({ ready: 0, inflight: 0, delayed: 0, dlq: 0 });
  });

  it("delivers every answered SEND after the messages stream's leader is killed with SIGKILL", {
    timeout: 90_000,
  }, async () => {
    const engine = open();
    const names = new JetStreamNames(streamPrefix);
    const answered = new Set<string>();
    // A client that retries: while the cluster elects new leaders a SEND is refused (503,
    // not answered, not counted) and tried again, for at most 30 s per message.
    const sendSome = async (n: number, tag: string) => {
      for (let i = 0; i < n; i++) {
        const until = Date.now() + 30_000;
        while (Date.now() < until) {
          try {
            answered.add((await engine.send({ tenant: T1, topic: "t", body: body(`${tag}${i}`) })).msgId);
            break;
          } catch {
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
        }
      }
    };
    await sendSome(50, "before");
    const nc = await connect({ servers: cluster.urls });
    let leader: number;
    try {
      const info = await (await jetstreamManager(nc)).streams.info(names.messages);
      leader = Number(info.cluster?.leader?.replace(/^n/, "")) - 1;
    } finally {
      await nc.close();
    }
    expect(leader).toBeGreaterThanOrEqual(0);
    await cluster.kill(leader);
    try {
      await sendSome(50, "after");
      // The cluster took writes again without the killed server.
      expect(answered.size).toBe(100);
      const received = new Set<string>();
      const until = Date.now() + 60_000;
      while (received.size < answered.size && Date.now() < until) {
        try {
          const got = await engine.recv({
            tenant: T1,
            topic: "t",
            max: 50,
            visibilityMs: 60_000,
            waitMs: 500,
          });
          for (const d of got) received.add(d.msgId);
        } catch {
          // The state stream may be electing too: try again.
        }
      }
      for (const msgId of answered) expect(received.has(msgId)).toBe(true);
    } finally {
      await cluster.restart(leader);
    }
  });
});
