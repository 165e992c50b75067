import { randomFillSync } from "node:crypto";
import { AppProtoId } from "@omnigate/oap";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sampleValue, scrape } from "../../../testing/support/prometheus-text.js";
import { addressOf, connect, type OapClient, OapConnectionError } from "../src/index.js";
import { startTestNode, type TestNode } from "./support/node.js";

const MiB = 1024 * 1024;

/** OAP/1 over wss:// from Node against a real node: the same client API as over oap+tls://. */
describe("connect(wss://…) against a real node", () => {
  let t: TestNode;
  let other: TestNode;
  let client: OapClient;

  beforeAll(async () => {
    // A second node has its own dev CA: one that did not sign the first node's certificate.
    [t, other] = await Promise.all([startTestNode(), startTestNode()]);
    client = await connect(wsUrlOf(t), { ca: t.node.caPem, tenant: 7n, defaultDeadlineMs: 60_000 });
  });
  afterAll(async () => {
    await client?.close();
    await Promise.all([t?.stop(), other?.stop()]);
  });

  it("does the HELLO over the WebSocket listener, which lists wss among the node's transports", async () => {
    expect(client.hello.transports).toContain("wss");
    const metrics = await scrape(t.node.adminUrl);
    expect(sampleValue(metrics, "connections", { transport: "wss" })).toBe(1);
  });

  it("echoes one request, and 64 in flight at once", async () => {
    const one = await client.request(AppProtoId.ECHO, { body: "over a websocket" });
    expect(one.body.toString()).toBe("over a websocket");
    const bodies = Array.from({ length: 64 }, (_, i) => `request ${i}`);
    const replies = await Promise.all(bodies.map((body) => client.request(AppProtoId.ECHO, { body })));
    expect(replies.map((reply) => reply.body.toString())).toEqual(bodies);
  });

  it("echoes a 3 MiB body: frames up to max_frame, each a message sent in fragments", async () => {
    const body = randomFillSync(Buffer.alloc(3 * MiB));
    const reply = await client.request(AppProtoId.ECHO, { body, compress: false });
    expect(reply.body.equals(body)).toBe(true);
  });

  it("streams a request body in writes and reads the reply as it comes", async () => {
    const stream = client.stream(AppProtoId.ECHO);
    const parts = ["one ", "two ", "three"];
    for (const part of parts) await stream.write(part);
    await stream.end();
    expect((await stream.response).code).toBe(200);
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(Buffer.concat(chunks).toString()).toBe(parts.join(""));
  });

  it("round-trips mailbox messages: sent over wss, pushed by SUBSCRIBE over wss", async () => {
    const sender = await connect(wsUrlOf(t), { ca: t.node.caPem, tenant: 7n });
    try {
      const received: string[] = [];
      const subscription = (async () => {
        for await (const msg of client.mailbox.subscribe("wss-jobs", { credit: 4 })) {
          received.push(msg.body.toString());
          await msg.ack();
          if (received.length === 3) break;
        }
      })();
      for (const text of ["a", "b", "c"]) await sender.mailbox.send("wss-jobs", text);
      await subscription;
      expect(received).toEqual(["a", "b", "c"]);
    } finally {
      await sender.close();
    }
  });

  it("stores 5 MiB with PUT and reads them back verified with GET", async () => {
    const bytes = randomFillSync(Buffer.alloc(5 * MiB));
    const put = await client.storage.put(bytes);
    expect(put).toMatchObject({ addr: await addressOf(bytes), size: bytes.byteLength, created: true });
    const back = await client.storage.getBytes(put.addr);
    expect(back.equals(bytes)).toBe(true);
  });

  it("pins the node's certificate instead of trusting a CA", async () => {
    const pinned = await connect(wsUrlOf(t), { fingerprint: t.node.tls.certFingerprint });
    try {
      expect((await pinned.request(AppProtoId.ECHO, { body: "pinned" })).body.toString()).toBe("pinned");
    } finally {
      await pinned.close();
    }
  });

  it("refuses a node whose certificate is not trusted or not the pinned one: tls_untrusted", async () => {
    for (const options of [{ ca: other.node.caPem }, { fingerprint: other.node.tls.certFingerprint }]) {
      const error = await connect(wsUrlOf(t), options).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OapConnectionError);
      expect(error).toMatchObject({ reason: "tls_untrusted", retryable: false });
    }
  });

  it("closes politely: later calls fail with client_closed", async () => {
    const c = await connect(wsUrlOf(t), { ca: t.node.caPem });
    await c.request(AppProtoId.ECHO, { body: "x" });
    await c.close();
    await expect(c.request(AppProtoId.ECHO, { body: "x" })).rejects.toMatchObject({
      reason: "client_closed",
    });
  });
});

function wsUrlOf(t: TestNode): string {
  const url = t.node.wsUrl;
  if (!url) throw new Error("the test node has no WebSocket listener");
  return url;
}
