import { afterEach, describe, expect, it } from "vitest";
import { connect, type OapClient, OapRequestError } from "../../packages/sdk/src/index.js";
import { type NodeProcess, startNodeProcess } from "../support/node-process.js";
import { type RedisProcess, startRedis } from "../support/redis-server.js";
import { tempDir } from "../support/temp-dir.js";

const TOPIC = "stall/orders";

/** The call's error, which must be there: a call that succeeds fails the test. */
async function refusal(call: Promise<unknown>): Promise<OapRequestError> {
  const outcome = await call.then(
    () => new Error("the call succeeded while the engine was paused"),
    (err: unknown) => err,
  );
  if (!(outcome instanceof OapRequestError)) throw outcome;
  return outcome;
}

describe("mailbox: an engine that stops answering", () => {
  const dir = tempDir("omnigate-mailbox-stall-");
  let node: NodeProcess | undefined;
  let redis: RedisProcess | undefined;
  let client: OapClient | undefined;

  afterEach(async () => {
    redis?.resume();
    await client?.close();
    await node?.stop();
    await redis?.stop();
    dir.remove();
  });

  it("answers 503 not_ready, retryable, within the client's deadline, and the retried SEND lands once", {
    timeout: 60_000,
  }, async () => {
    redis = await startRedis();
    node = await startNodeProcess(["--mailbox-engine", "redis", "--mailbox-redis-url", redis.url], {
      dataDir: dir.path,
    });
    client = await connect(node.oapUrl, { ca: node.caPem, tenant: 77n });
    await client.mailbox.send(TOPIC, "before");

    // Connections to the paused Redis stay open and nothing comes back: every engine call hangs.
    redis.pause();
    // Without the node's answer the client's own timer would end these calls with 504 timeout.
    const send = await refusal(
      client.mailbox.send(TOPIC, "during", { idemKey: "during-1", deadlineMs: 2_000 }),
    );
    expect([send.code, send.reason, send.retryable]).toEqual([503, "not_ready", true]);
    expect(send.message).toContain("the mailbox's redis engine did not answer within the request's deadline");
    expect(send.retryAfterMs).toBeGreaterThan(0);
    const recv = await refusal(
      client.mailbox.recv(TOPIC, { max: 10, waitMs: 0, visibilityMs: 1_000, deadlineMs: 1_500 }),
    );
    expect([recv.code, recv.reason, recv.retryable]).toEqual([503, "not_ready", true]);

    redis.resume();
    // The paused SEND may have landed once Redis answered; its retry is deduplicated either way.
    await client.mailbox.send(TOPIC, "during", { idemKey: "during-1" });
    // The stalled RECV may have leased "before" once Redis answered: it shows again after 1 s.
    const bodies: string[] = [];
    for (let round = 0; round < 30 && bodies.length < 2; round++) {
      for (const msg of await client.mailbox.recv(TOPIC, { max: 10, waitMs: 200, visibilityMs: 60_000 })) {
        bodies.push(msg.body.toString());
        await msg.ack();
      }
    }
    expect(bodies.sort()).toEqual(["before", "during"]);
    // Nothing else: no second copy of the retried SEND.
    expect(await client.mailbox.recv(TOPIC, { max: 10, waitMs: 1_500 })).toEqual([]);
  });
});

describe("mailbox: a long poll longer than its deadline", () => {
  const dir = tempDir("omnigate-mailbox-poll-deadline-");
  let node: NodeProcess | undefined;
  let client: OapClient | undefined;

  afterEach(async () => {
    await client?.close();
    await node?.stop();
    dir.remove();
  });

  it("ends early with nothing, not with the deadline's 504", { timeout: 60_000 }, async () => {
    node = await startNodeProcess([], { dataDir: dir.path });
    client = await connect(node.oapUrl, { ca: node.caPem, tenant: 78n });
    // Before, the node waited the whole 5 s and the client's timer ended the call at 1.5 s.
    expect(await client.mailbox.recv(TOPIC, { max: 1, waitMs: 5_000, deadlineMs: 1_500 })).toEqual([]);
    // The poll still wakes for a message sent while it waits.
    const waiting = client.mailbox.recv(TOPIC, { max: 1, waitMs: 20_000, deadlineMs: 15_000 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await client.mailbox.send(TOPIC, "woke");
    expect((await waiting).map((m) => m.body.toString())).toEqual(["woke"]);
  });
});
