import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type OapClient, OapRequestError } from "../src/index.js";
import { startTestNode, type TestNode } from "./support/node.js";
import { TEST_APP, TestService } from "./support/test-service.js";

describe("retries", () => {
  let t: TestNode;
  let client: OapClient;
  const service = new TestService();

  beforeAll(async () => {
    t = await startTestNode({ services: [service] });
    client = await connect(t.node.oapUrl, { ca: t.node.caPem });
  });
  afterAll(async () => {
    await client?.close();
    await t?.stop();
  });

  it("retries a 503 when the request carries an idempotency key", async () => {
    const res = await client.request(TEST_APP, { meta: { op: "flaky" }, idempotencyKey: "idem-503" });
    expect(res.code).toBe(200);
    expect(res.meta.attempt).toBe(2);
    expect(service.attemptsFor("idem-503")).toBe(2);
  });

  it("returns the first 503 when the request has no idempotency key", async () => {
    const error = await client
      .request(TEST_APP, { meta: { op: "flaky", key: "plain-503" } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OapRequestError);
    expect(error).toMatchObject({
      code: 503,
      reason: "overloaded",
      message: "busy, try again",
      retryable: true,
      retryAfterMs: 50,
    });
    expect((error as OapRequestError).corrId).toBeTypeOf("bigint");
    expect(service.attemptsFor("plain-503")).toBe(1);
  });

  it("does not retry a 400, even with an idempotency key", async () => {
    const error = await client
      .request(TEST_APP, { meta: { op: "bad" }, idempotencyKey: "idem-400" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OapRequestError);
    expect(error).toMatchObject({ code: 400, reason: "bad_meta", retryable: false });
    expect(service.attemptsFor("idem-400")).toBe(1);
  });

  it("returns the error instead of waiting out a retry_after_ms longer than the deadline", async () => {
    const error = await client
      .request(TEST_APP, { meta: { op: "busy-long" }, idempotencyKey: "idem-deadline", deadlineMs: 1_000 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OapRequestError);
    expect(error).toMatchObject({ code: 503, retryAfterMs: 5_000 });
    expect(service.attemptsFor("idem-deadline")).toBe(1);
  });

  it("stops after maxAttempts", async () => {
    const once = await connect(t.node.oapUrl, { ca: t.node.caPem, retry: { maxAttempts: 1 } });
    try {
      await expect(
        once.request(TEST_APP, { meta: { op: "flaky" }, idempotencyKey: "idem-max" }),
      ).rejects.toMatchObject({ code: 503 });
      expect(service.attemptsFor("idem-max")).toBe(1);
    } finally {
      await once.close();
    }
  });
});
