import { AppProtoId } from "@omnigate/oap";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type OapClient, OapConnectionError } from "../src/index.js";
import { startTestNode, type TestNode } from "./support/node.js";
import { TEST_APP, TestService } from "./support/test-service.js";

const ECHO = AppProtoId.ECHO;

describe("reconnect", () => {
  let t: TestNode;
  let client: OapClient;
  const service = new TestService();
  let connects = 0;
  let disconnects = 0;

  beforeAll(async () => {
    t = await startTestNode({ services: [service] });
    client = await connect(t.node.oapUrl, { ca: t.node.caPem });
    client.on("connect", () => connects++).on("disconnect", () => disconnects++);
  });
  afterAll(async () => {
    await client?.close();
    await t?.stop();
  });

  it("fails an in-flight request without idempotency key, then reconnects for the next one", async () => {
    const arrived = service.arrival("drop-1");
    const inflight = client
      .request(TEST_APP, { meta: { op: "hold", key: "drop-1" } })
      .catch((e: unknown) => e);
    await arrived;
    t.node.dropConnections();

    const error = await inflight;
    expect(error).toBeInstanceOf(OapConnectionError);
    expect(error).toMatchObject({ code: 503, reason: "connection_lost", retryable: true });
    expect((error as OapConnectionError).corrId).toBeTypeOf("bigint");
    expect(service.attemptsFor("drop-1")).toBe(1);

    const res = await client.request(ECHO, { body: "after the drop" });
    expect(res.body.toString()).toBe("after the drop");
    expect(client.hello.versions).toContain(1);
    expect(disconnects).toBe(1);
    expect(connects).toBe(1);
  });

  it("retries an in-flight idempotent request on a new connection", async () => {
    const arrived = service.arrival("drop-2");
    const inflight = client.request(TEST_APP, { meta: { op: "hold" }, idempotencyKey: "drop-2" });
    await arrived;
    t.node.dropConnections();
    const res = await inflight;
    expect(res.code).toBe(200);
    expect(res.meta.attempt).toBe(2);
    expect(service.attemptsFor("drop-2")).toBe(2);
  });

  it("fails an open stream with OapConnectionError and does not retry it", async () => {
    const s = client.stream(ECHO);
    await s.write("before");
    await s.response;
    t.node.dropConnections();
    const error = await (async () => {
      for await (const _ of s) {
        // drain until the failure
      }
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OapConnectionError);
  });

  it("shares one reconnect among concurrent callers", async () => {
    // Make sure the previous drop has been noticed, so the next calls find no connection.
    await client.request(ECHO);
    t.node.dropConnections();
    const before = connects;
    const bodies = Array.from({ length: 20 }, (_, i) => `c${i}`);
    const replies = await Promise.all(
      bodies.map((body) => client.request(ECHO, { body, idempotencyKey: `share-${body}` })),
    );
    expect(replies.map((r) => r.body.toString())).toEqual(bodies);
    expect(connects - before).toBe(1);
  });
});
