import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type OapClient } from "../../packages/sdk/src/index.js";
import { type NatsCluster, startNatsCluster } from "../support/nats-cluster.js";
import { type NodeProcess, startNodeProcess } from "../support/node-process.js";

/** A node on mailbox.engine = jetstream against a real 3-server cluster, through the SDK. */
describe("mailbox through a node on the jetstream engine (3 nats servers, R3)", () => {
  let cluster: NatsCluster;
  const nodes: NodeProcess[] = [];
  const clients: OapClient[] = [];

  const startNode = async (): Promise<OapClient> => {
    const node = await startNodeProcess([
      "--mailbox-engine",
      "jetstream",
      "--mailbox-nats-urls",
      cluster.urls.join(","),
    ]);
    nodes.push(node);
    const client = await connect(node.oapUrl, { ca: node.caPem, tenant: 7n });
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    const started = Date.now();
    cluster = await startNatsCluster({ nodes: 3 });
    console.info(`nats cluster of 3 ready in ${Date.now() - started} ms`);
  }, 30_000);
  afterAll(async () => {
    for (const client of clients.splice(0)) await client.close();
    for (const node of nodes.splice(0)) await node.stop();
    await cluster?.stop();
  });

  it("sends, receives and acks through one node; another node sees the same mailbox", {
    timeout: 60_000,
  }, async () => {
    const [first, second] = [await startNode(), await startNode()];
    const sent = await first.mailbox.send("orders/eu", "hello", { attrs: { kind: "greeting" } });
    const again = await second.mailbox.send("orders/eu", "hello", { idemKey: "once" });
    expect(await first.mailbox.send("orders/eu", "hello", { idemKey: "once" })).toMatchObject({
      msgId: again.msgId,
      duplicate: true,
    });
    const got = await second.mailbox.recv("orders/eu", { max: 10, visibilityMs: 30_000 });
    expect(got.map((m) => [m.msgId, m.body.toString(), m.attempt])).toEqual([
      [sent.msgId, "hello", 1],
      [again.msgId, "hello", 1],
    ]);
    expect(got[0]?.attrs).toEqual({ kind: "greeting" });
    for (const msg of got) await msg.ack();
    // Acked through one node, gone for the other.
    expect(await first.mailbox.recv("orders/eu", { max: 10, visibilityMs: 30_000 })).toEqual([]);
  });

  it("pushes to a SUBSCRIBE within its credit, also messages sent through another node", {
    timeout: 60_000,
  }, async () => {
    const [subscriber, sender] = [await startNode(), await startNode()];
    for (let i = 0; i < 3; i++) await sender.mailbox.send("feed", `m${i}`);
    const got: string[] = [];
    for await (const msg of subscriber.mailbox.subscribe("feed", { credit: 2 })) {
      got.push(msg.body.toString());
      await msg.ack();
      // Sent while subscribed, through the other node: the long poll hears the stream's subject.
      if (got.length === 3) await sender.mailbox.send("feed", "m3");
      if (got.length === 4) break;
    }
    expect(got).toEqual(["m0", "m1", "m2", "m3"]);
    expect(await sender.mailbox.recv("feed", { max: 10 })).toEqual([]);
  });
});
