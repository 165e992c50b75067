import { randomBytes } from "node:crypto";
import { AppProtoId } from "@omnigate/oap";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, OapClient, OapClientError, OapConnectionError } from "../src/index.js";
import { startTestNode, type TestNode } from "./support/node.js";

const ECHO = AppProtoId.ECHO;

describe("client against a real node: HELLO, request, stream", () => {
  let t: TestNode;
  let client: OapClient;

  beforeAll(async () => {
    t = await startTestNode();
    client = await connect(t.node.oapUrl, { ca: t.node.caPem });
  });
  afterAll(async () => {
    await client?.close();
    await t?.stop();
  });

  it("exposes the node's HELLO reply", () => {
    expect(client).toBeInstanceOf(OapClient);
    const hello = client.hello;
    expect(hello.versions).toContain(1);
    expect(hello.max_frame).toBe(t.node.config.maxFrame);
    expect(hello.max_inflight).toBe(t.node.config.maxInflight);
    expect(hello.node_id).toBe(t.node.config.nodeId);
    expect(hello.services.map((s) => s.app_proto_id)).toContain(ECHO);
  });

  it("round-trips meta and body through echo", async () => {
    const res = await client.request(ECHO, { meta: { op: "ping", n: 7 }, body: "hello, node" });
    expect(res.code).toBe(200);
    expect(res.meta).toMatchObject({ op: "ping", n: 7 });
    expect(res.body.toString()).toBe("hello, node");
  });

  it("sends deadline_ms and idempotency_key in request meta", async () => {
    const res = await client.request(ECHO, { deadlineMs: 5_000, idempotencyKey: "key-1" });
    expect(res.meta.idempotency_key).toBe("key-1");
    expect(res.meta.deadline_ms).toBeGreaterThan(0);
    expect(res.meta.deadline_ms).toBeLessThanOrEqual(5_000);
    expect(res.body.byteLength).toBe(0);
  });

  it("sends no deadline_ms when the call names no deadline: the node applies its own default", async () => {
    const res = await client.request(ECHO, { meta: { op: "ping" } });
    expect(res.meta).toMatchObject({ op: "ping" });
    expect(res.meta.deadline_ms).toBeUndefined();
    const bare = await client.request(ECHO, { body: "x" });
    expect(bare.meta).toEqual({});
  });

  it("splits a body larger than max_frame across frames and gets it back intact", async () => {
    const body = randomBytes(client.hello.max_frame * 2 + 12_345);
    const res = await client.request(ECHO, { meta: { big: true }, body });
    expect(res.code).toBe(200);
    expect(res.body.equals(body)).toBe(true);
  });

  it("runs many requests at once on one connection", async () => {
    const bodies = Array.from({ length: 40 }, (_, i) => `request ${i}`);
    const replies = await Promise.all(bodies.map((body) => client.request(ECHO, { body })));
    expect(replies.map((r) => r.body.toString())).toEqual(bodies);
  });

  it("carries an APP_E2E body byte-exact", async () => {
    const body = randomBytes(4096);
    const res = await client.request(ECHO, { body, e2e: true });
    expect(res.body.equals(body)).toBe(true);
  });

  it("streams several writes and iterates the echoed chunks", async () => {
    const s = client.stream(ECHO, { meta: { kind: "stream" } });
    await s.write("one ");
    const head = await s.response;
    expect(head.code).toBe(200);
    expect(head.meta).toMatchObject({ kind: "stream" });
    expect(s.corrId).toBeTypeOf("bigint");

    const received: string[] = [];
    const reading = (async () => {
      for await (const chunk of s) received.push(chunk.toString());
    })();
    await s.write("two ");
    await s.write(Buffer.from("three "));
    await s.end("four");
    await reading;
    expect(received.join("")).toBe("one two three four");
  });

  it("streams a body larger than max_frame in one write", async () => {
    const body = randomBytes(client.hello.max_frame + 1000);
    const s = client.stream(ECHO);
    const ending = s.end(body);
    const chunks: Buffer[] = [];
    for await (const chunk of s) chunks.push(chunk);
    await ending;
    expect(Buffer.concat(chunks).equals(body)).toBe(true);
  });

  it("answers a stream that sends only meta and ends", async () => {
    const s = client.stream(ECHO, { meta: { only: "meta" } });
    await s.end();
    expect((await s.response).meta).toMatchObject({ only: "meta" });
    const chunks: Buffer[] = [];
    for await (const chunk of s) chunks.push(chunk);
    expect(chunks).toEqual([]);
  });

  it("rejects a write or end after end() with OapClientError stream_ended", async () => {
    const s = client.stream(ECHO);
    await s.end("last");
    for (const late of [s.write("late"), s.end("again"), s.end()]) {
      const error = await late.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OapClientError);
      expect(error).toMatchObject({ code: 400, reason: "stream_ended", retryable: false });
    }
    const chunks: Buffer[] = [];
    for await (const chunk of s) chunks.push(chunk);
    expect(Buffer.concat(chunks).toString()).toBe("last");
  });

  it("takes its URL from RON_NODE_URL when none is given", async () => {
    const saved = process.env.RON_NODE_URL;
    process.env.RON_NODE_URL = t.node.oapUrl;
    try {
      const other = await connect({ ca: t.node.caPem });
      expect((await other.request(ECHO, { body: "env" })).body.toString()).toBe("env");
      await other.close();
    } finally {
      if (saved === undefined) delete process.env.RON_NODE_URL;
      else process.env.RON_NODE_URL = saved;
    }
  });

  it("rejects a URL with another scheme", async () => {
    await expect(connect("https://127.0.0.1:9443", { insecure: true })).rejects.toThrow(/oap\+tls/);
  });

  it("rejects pending and later calls once closed", async () => {
    const other = await connect(t.node.oapUrl, { ca: t.node.caPem });
    const pending = other
      .request(ECHO, { meta: { delay_ms: 5_000 }, idempotencyKey: "closing" })
      .catch((e: unknown) => e);
    await other.close();
    const error = await pending;
    expect(error).toBeInstanceOf(OapConnectionError);
    expect(error).toMatchObject({ reason: "client_closed", retryable: false });
    await expect(other.request(ECHO)).rejects.toMatchObject({ reason: "client_closed" });
  });
});
