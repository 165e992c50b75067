import { AppProtoId } from "@omnigate/oap";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type OapClient, OapClientError } from "../../packages/sdk/src/index.js";
import { type OmnigateCluster, startOmnigateCluster } from "../support/omnigate-cluster.js";
import { type RedisProcess, startRedis } from "../support/redis-server.js";

const TOPIC = "failover/orders";
const ECHO_WORKERS = 4;
const SENDERS = 2;
/** Calls answered before the kill, and after it, so both sides of the failover carry load. */
const ANSWERED_BEFORE_KILL = 1_000;
const ANSWERED_AFTER_KILL = 2_000;
const CALL_DEADLINE_MS = 8_000;

/**
 * Three nodes on one Redis (mailbox engine, shared revocations) and one root key ring; the
 * client is given only the first node's URL and learns the others from its HELLO.
 */
describe("cluster: the SDK fails over when its node is SIGKILLed under load", () => {
  let redis: RedisProcess;
  let cluster: OmnigateCluster;
  const clients: OapClient[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    cluster = await startOmnigateCluster({
      flags: ["--mailbox-engine", "redis", "--mailbox-redis-url", redis.url, "--auth-redis-url", redis.url],
    });
  }, 120_000);
  afterAll(async () => {
    for (const client of clients.splice(0)) await client.close();
    await cluster?.stop();
    await redis?.stop();
  });

  const open = async (urls: string | string[]) => {
    const client = await connect(urls, {
      ca: cluster.caPem,
      cap: cluster.devCap,
      connectTimeoutMs: 2_000,
      retry: { maxAttempts: 10, capMs: 500 },
    });
    clients.push(client);
    return client;
  };

  it("every node's HELLO lists the cluster, and a capability minted on one node is valid on all", async () => {
    for (const [i, url] of cluster.urls.entries()) {
      const client = await open(url);
      expect(client.hello.nodes).toEqual(cluster.urls);
      expect(client.hello.node_id).toBe(`node${i + 1}`);
      expect(client.hello.cap).toMatchObject({ bound: true });
      const echoed = await client.request(AppProtoId.ECHO, { body: `to node ${i + 1}` });
      expect(Buffer.from(echoed.body).toString()).toBe(`to node ${i + 1}`);
    }
  });

  it("moves to another node, retries idempotent calls there, subscribes again, and loses no answered SEND", {
    timeout: 180_000,
  }, async () => {
    const client = await open(cluster.urls[0] as string);
    expect(client.hello.node_id).toBe("node1");
    const connectedTo: string[] = [];
    let reconnectedAt: number | undefined;
    client.on("connect", (hello) => {
      connectedTo.push(hello.node_id);
      reconnectedAt ??= Date.now();
    });

    const received = new Set<string>();
    const stopSubscription = new AbortController();
    const subscription = (async () => {
      const messages = client.mailbox.subscribe(TOPIC, {
        credit: 32,
        visibilityMs: 2_000,
        signal: stopSubscription.signal,
      });
      try {
        for await (const msg of messages) {
          received.add(msg.body.toString());
          await msg.ack().catch(() => {}); // a lost ack only means a redelivery
        }
      } catch (err) {
        if (!stopSubscription.signal.aborted) throw err;
      }
    })();

    let running = true;
    let answered = 0;
    let firstAnswerAfterFailover: number | undefined;
    const answeredSends = new Set<string>();
    const failures: unknown[] = [];
    const settled = () => {
      answered++;
      // Answers to calls already in flight can land just before the process dies: traffic has
      // resumed once a call is answered over the connection to another node.
      if (reconnectedAt !== undefined) firstAnswerAfterFailover ??= Date.now();
    };
    // Every call either succeeds or fails with a retryable error: the load goes on either way.
    const failed = (err: unknown) => {
      failures.push(err);
    };
    const echoes = Array.from({ length: ECHO_WORKERS }, async (_, w) => {
      for (let n = 0; running; n++) {
        const body = `echo ${w}/${n}`;
        await client
          .request(AppProtoId.ECHO, { body, idempotencyKey: `e-${w}-${n}`, deadlineMs: CALL_DEADLINE_MS })
          .then((reply) => {
            expect(Buffer.from(reply.body).toString()).toBe(body);
            settled();
          }, failed);
      }
    });
    const senders = Array.from({ length: SENDERS }, async (_, s) => {
      for (let n = 0; running; n++) {
        const body = `send ${s}/${n}`;
        await client.mailbox
          .send(TOPIC, body, { idemKey: `s-${s}-${n}`, deadlineMs: CALL_DEADLINE_MS })
          .then(() => {
            answeredSends.add(body);
            settled();
          }, failed);
      }
    });

    await until(() => answered >= ANSWERED_BEFORE_KILL, 60_000, "answers before the kill");
    const answeredAtKill = answered;
    const killedAt = Date.now();
    await cluster.kill(0);
    await until(() => answered >= answeredAtKill + ANSWERED_AFTER_KILL, 60_000, "answers after the kill");
    running = false;
    await Promise.all([...echoes, ...senders]);

    // Every answered SEND reaches the subscription, which moved with the client.
    await until(
      () => [...answeredSends].every((body) => received.has(body)),
      60_000,
      "every answered SEND received",
    );
    stopSubscription.abort();
    await subscription;

    expect(connectedTo.length).toBeGreaterThanOrEqual(1);
    expect(connectedTo.every((node) => node !== "node1")).toBe(true);
    for (const err of failures) {
      expect(err).toBeInstanceOf(OapClientError);
      expect((err as OapClientError).retryable).toBe(true);
    }
    const resumedMs = (firstAnswerAfterFailover as number) - killedAt;
    // The figure the issue asks for, printed for the closing note; not asserted (no timings in tests).
    console.log(
      JSON.stringify({
        failover_resumed_ms: resumedMs,
        answered,
        answered_sends: answeredSends.size,
        failed_calls: failures.length,
        reconnected_to: connectedTo,
      }),
    );
  });

  it("connects to the next URL given when the first node is down", async () => {
    // The failover case above leaves node1 down; this one does not depend on it.
    if (cluster.node(0)) await cluster.kill(0);
    const client = await open([cluster.urls[0] as string, cluster.urls[2] as string]);
    expect(client.hello.node_id).toBe("node3");
    await cluster.restart(0);
    const back = await open(cluster.urls[0] as string);
    expect(back.hello.node_id).toBe("node1");
  }, 60_000);
});

async function until(done: () => boolean, withinMs: number, what: string): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
