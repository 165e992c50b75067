import { AppProtoId } from "@omnigate/oap";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, OapAbortError, type OapClient, OapTimeoutError } from "../src/index.js";
import { startTestNode, type TestNode } from "./support/node.js";
import { TEST_APP, TestService } from "./support/test-service.js";

const ECHO = AppProtoId.ECHO;

describe("max_inflight", () => {
  let t: TestNode;
  let client: OapClient;
  const service = new TestService();

  beforeAll(async () => {
    t = await startTestNode({ overrides: { maxInflight: 4 }, services: [service] });
    client = await connect(t.node.oapUrl, { ca: t.node.caPem });
  });
  afterAll(async () => {
    await client?.close();
    await t?.stop();
  });

  it("learns max_inflight from HELLO", () => {
    expect(client.hello.max_inflight).toBe(4);
  });

  it("queues 50 concurrent requests behind 4 slots instead of failing them", async () => {
    const replies = await Promise.all(
      Array.from({ length: 50 }, () => client.request(TEST_APP, { meta: { op: "slow", delay_ms: 20 } })),
    );
    expect(replies.every((r) => r.code === 200)).toBe(true);
    expect(service.maxConcurrent).toBeLessThanOrEqual(4);
    expect(service.maxConcurrent).toBeGreaterThan(0);
  });

  it("queues 50 concurrent echo requests with delay_ms", async () => {
    const replies = await Promise.all(
      Array.from({ length: 50 }, (_, i) => client.request(ECHO, { meta: { delay_ms: 20 }, body: `e${i}` })),
    );
    expect(replies.map((r) => r.body.toString())).toEqual(Array.from({ length: 50 }, (_, i) => `e${i}`));
  });

  it("fails a caller whose deadline passes while it waits for a slot", async () => {
    const holders = Array.from({ length: 4 }, () =>
      client.request(TEST_APP, { meta: { op: "slow", delay_ms: 1_000 } }),
    );
    await expect(client.request(ECHO, { deadlineMs: 100 })).rejects.toBeInstanceOf(OapTimeoutError);
    const replies = await Promise.all(holders);
    expect(replies.every((r) => r.code === 200)).toBe(true);
  });

  it("keeps an abandoned stream's slot until the node ends it, so later streams are never refused", async () => {
    // The node ends streams that name no deadline after 1 s; until then it counts this one.
    const single = await startTestNode({ overrides: { maxInflight: 1, defaultDeadlineMs: 1_000 } });
    try {
      const c = await connect(single.node.oapUrl, { ca: single.node.caPem });
      try {
        const controller = new AbortController();
        const s = c.stream(ECHO, { deadlineMs: Number.POSITIVE_INFINITY, signal: controller.signal });
        await s.write("never ended");
        await expect(s.response).resolves.toMatchObject({ code: 200 });
        controller.abort();
        await expect(
          (async () => {
            for await (const _ of s) {
              // until the abort
            }
          })(),
        ).rejects.toBeInstanceOf(OapAbortError);
        // Sent at once, this would be refused with 429 too_many_streams; it must wait for the slot instead.
        const res = await c.request(ECHO, { body: "next" });
        expect(res.body.toString()).toBe("next");
      } finally {
        await c.close();
      }
    } finally {
      await single.stop();
    }
  });
});
