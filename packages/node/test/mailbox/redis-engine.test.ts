import { randomUUID } from "node:crypto";
import { OapError } from "@omnigate/oap";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type RedisProcess, startRedis } from "../../../../testing/support/redis-server.js";
import { ManualClock } from "../../src/mailbox/clock.js";
import { RedisEngine } from "../../src/mailbox/redis-engine.js";
import { mailboxEngineSuite, SUITE_RULES } from "./engine-suite.js";

let redis: RedisProcess;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

mailboxEngineSuite(
  "redis",
  async (rules, clock) => {
    // A key prefix per test: tests share the server, never each other's keys.
    const keyPrefix = `mb-test:${randomUUID()}:`;
    const open = () => new RedisEngine({ ...rules, url: redis.url, keyPrefix, clock });
    const subject = {
      engine: open(),
      async reopen() {
        await subject.engine.close();
        subject.engine = open();
        return subject.engine;
      },
      cleanup: () => subject.engine.close(),
    };
    return subject;
  },
  true,
);

const T1 = "0000000000000000000000000000000a";
const body = (text: string): Uint8Array => new TextEncoder().encode(text);

/** What the Streams layout brings on top of the shared rules: several nodes, the keys it leaves. */
describe("mailbox engine: redis on Streams", () => {
  let clock: ManualClock;
  let keyPrefix: string;
  let inspect: Redis;
  const engines: RedisEngine[] = [];
  const open = (pollMs?: number): RedisEngine => {
    const engine = new RedisEngine({ ...SUITE_RULES, url: redis.url, keyPrefix, clock, pollMs });
    engines.push(engine);
    return engine;
  };
  const recv = (engine: RedisEngine, max: number, visibilityMs = 1000) =>
    engine.recv({ tenant: T1, topic: "a", max, visibilityMs, waitMs: 0 });

  beforeEach(() => {
    clock = new ManualClock();
    keyPrefix = `mb-streams:${randomUUID()}:`;
    inspect = new Redis(redis.url);
  });
  afterEach(async () => {
    for (const engine of engines.splice(0)) await engine.close();
    inspect.disconnect();
  });

  it("keeps each topic's messages in one stream whose consumer group holds the delivered ones", async () => {
    const engine = open();
    for (let i = 0; i < 3; i++) await engine.send({ tenant: T1, topic: "a", body: body(`${i}`) });
    const stream = `${keyPrefix}s:${T1}:a`;
    expect(await inspect.xlen(stream)).toBe(3);
    const [first, second] = await recv(engine, 2);
    const pending = (await inspect.xpending(stream, "mailbox")) as [number, ...unknown[]];
    expect(pending[0]).toBe(2);
    await engine.ack({ tenant: T1, receipt: first?.receipt ?? "" });
    expect(await engine.delete(T1, second?.msgId ?? "")).toBe(true);
    // Acked and deleted messages leave both the stream and the pending list.
    expect(await inspect.xlen(stream)).toBe(1);
    expect(((await inspect.xpending(stream, "mailbox")) as [number])[0]).toBe(0);
  });

  it("leaves no message keys behind once everything is acked, deleted or purged", async () => {
    const engine = open();
    for (let i = 0; i < 4; i++) await engine.send({ tenant: T1, topic: "a", body: body(`${i}`) });
    const [acked, deleted, dead] = await recv(engine, 3);
    await engine.ack({ tenant: T1, receipt: acked?.receipt ?? "" });
    await engine.delete(T1, deleted?.msgId ?? "");
    await engine.nack({ tenant: T1, receipt: dead?.receipt ?? "" }, 0);
    for (let attempt = 2; attempt <= SUITE_RULES.maxAttempts; attempt++) {
      for (const d of await recv(engine, 1)) await engine.nack({ tenant: T1, receipt: d.receipt }, 0, "no");
    }
    expect(await engine.dlqPurge(T1, "a")).toBe(1);
    for (const d of await recv(engine, 10)) await engine.ack({ tenant: T1, receipt: d.receipt });
    expect(await engine.depth()).toEqual({ ready: 0, inflight: 0, delayed: 0, dlq: 0 });
    // What stays: the id counter and the tenant's depth (0). The empty topic was dropped by depth().
    const keys = (await inspect.keys(`${keyPrefix}*`)).map((k) => k.slice(keyPrefix.length)).sort();
    expect(keys).toEqual([`depth:${T1}`, "seq"]);
    expect(await inspect.get(`${keyPrefix}depth:${T1}`)).toBe("0");
    // The topic works again after its stream was dropped.
    await engine.send({ tenant: T1, topic: "a", body: body("again") });
    expect((await recv(engine, 10)).map((d) => new TextDecoder().decode(d.body))).toEqual(["again"]);
  });

  it("dead-letters every expired last-attempt lease of the topic on one RECV, not only the first `max`", async () => {
    const engine = open();
    for (let i = 0; i < 5; i++) await engine.send({ tenant: T1, topic: "a", body: body(`${i}`) });
    for (let attempt = 1; attempt <= SUITE_RULES.maxAttempts; attempt++) {
      expect(await recv(engine, 10)).toHaveLength(5);
      clock.advance(1000);
    }
    expect(await recv(engine, 1)).toEqual([]);
    expect(await engine.depth()).toEqual({ ready: 0, inflight: 0, delayed: 0, dlq: 5 });
    expect((await engine.dlqList(T1, "a", 10)).map((d) => d.lastError)).toEqual(
      Array(5).fill("visibility timeout expired"),
    );
  });

  it("RECV and depth() cost Redis a bounded number of commands, however many messages are leased", async () => {
    const engine = new RedisEngine({
      ...SUITE_RULES,
      maxDepthPerTenant: 10_000,
      url: redis.url,
      keyPrefix,
      clock,
    });
    engines.push(engine);
    for (let i = 0; i < 500; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, () => engine.send({ tenant: T1, topic: "a", body: body("x") })),
      );
    }
    expect(await recv(engine, 500, 60_000)).toHaveLength(500);
    const fresh = await engine.send({ tenant: T1, topic: "a", body: body("new") });
    const before = await commandsRun(inspect);
    const [got, ...rest] = await recv(engine, 1);
    const afterRecv = await commandsRun(inspect);
    expect(await engine.depth()).toEqual({ ready: 0, inflight: 501, delayed: 0, dlq: 0 });
    const afterDepth = await commandsRun(inspect);
    expect([got?.msgId, rest]).toEqual([fresh.msgId, []]);
    // Each step's own commands (its script's calls, plus one INFO): tens, not hundreds.
    expect(afterRecv - before).toBeLessThan(30);
    expect(afterDepth - afterRecv).toBeLessThan(30);
  });

  it("drops a stream entry whose message hash is gone instead of handing it out", async () => {
    const engine = open();
    const lost = await engine.send({ tenant: T1, topic: "a", body: body("lost") });
    await engine.send({ tenant: T1, topic: "a", body: body("kept") });
    await inspect.del(`${keyPrefix}m:${T1}:${lost.msgId}`);
    expect((await recv(engine, 10)).map((d) => new TextDecoder().decode(d.body))).toEqual(["kept"]);
    expect(await inspect.xlen(`${keyPrefix}s:${T1}:a`)).toBe(1);
  });

  it("hands each message to one node at a time when several nodes consume the topic", async () => {
    const [a, b] = [open(), open()];
    const sent = new Set<string>();
    for (let i = 0; i < 40; i++)
      sent.add((await a.send({ tenant: T1, topic: "a", body: body(`${i}`) })).msgId);
    const batches = await Promise.all(Array.from({ length: 12 }, (_, i) => recv(i % 2 ? a : b, 4)));
    const got = batches.flat().map((d) => d.msgId);
    expect(new Set(got).size).toBe(got.length);
    expect(new Set(got)).toEqual(sent);
  });

  it("finds a message another node sent while a long poll waits, by polling", async () => {
    const waiting = open(1000);
    const other = open();
    const poll = waiting.recv({ tenant: T1, topic: "a", max: 10, visibilityMs: 1000, waitMs: 20_000 });
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    await other.send({ tenant: T1, topic: "a", body: body("from elsewhere") });
    clock.advance(1000);
    expect((await poll).map((d) => new TextDecoder().decode(d.body))).toEqual(["from elsewhere"]);
  });

  it("answers 503 not_ready with retry_after_ms when Redis is gone, as a refusal, not a crash", async () => {
    const lone = await startRedis();
    const engine = new RedisEngine({ ...SUITE_RULES, url: lone.url, keyPrefix, clock });
    engines.push(engine);
    await engine.send({ tenant: T1, topic: "a", body: body("before") });
    await lone.stop();
    const error = await engine.send({ tenant: T1, topic: "a", body: body("after") }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OapError);
    expect([(error as OapError).code, (error as OapError).reason]).toEqual([503, "not_ready"]);
    expect((error as OapError).retryAfterMs).toBeGreaterThan(0);
    const depth = await engine.depth().catch((e: unknown) => e);
    expect((depth as OapError).reason).toBe("not_ready");
  });
});

/** Commands the server has run so far (INFO commandstats, script calls included). */
async function commandsRun(redis: Redis): Promise<number> {
  const info = await redis.info("commandstats");
  let total = 0;
  for (const match of info.matchAll(/^cmdstat_[^:]+:calls=(\d+)/gm)) total += Number(match[1]);
  return total;
}
