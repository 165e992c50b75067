import { AppProtoId } from "@omnigate/oap";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, OapAbortError, type OapClient, OapTimeoutError } from "../src/index.js";
import { startTestNode, type TestNode } from "./support/node.js";

const ECHO = AppProtoId.ECHO;

describe("deadlines and cancellation", () => {
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

  it("fails a request whose reply comes after its deadline with OapTimeoutError", async () => {
    const error = await client
      .request(ECHO, { meta: { delay_ms: 2_000 }, deadlineMs: 200 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OapTimeoutError);
    expect(error).toMatchObject({ code: 504, reason: "timeout", retryable: false });
    expect((error as OapTimeoutError).corrId).toBeTypeOf("bigint");
  });

  it("fails each in-flight call at its own deadline, an earlier one opened after a later one included", async () => {
    const started = performance.now();
    const late = client
      .request(ECHO, { meta: { delay_ms: 3_000 }, deadlineMs: 1_500 })
      .catch((e: unknown) => e);
    const early = client
      .request(ECHO, { meta: { delay_ms: 3_000 }, deadlineMs: 150 })
      .catch((e: unknown) => e);
    expect(await early).toBeInstanceOf(OapTimeoutError);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(await late).toBeInstanceOf(OapTimeoutError);
    expect(performance.now() - started).toBeGreaterThanOrEqual(1_400);
  });

  it("does not retry a timed-out request even with an idempotency key", async () => {
    await expect(
      client.request(ECHO, { meta: { delay_ms: 2_000 }, deadlineMs: 200, idempotencyKey: "t-1" }),
    ).rejects.toBeInstanceOf(OapTimeoutError);
  });

  it("fails a stream whose request side never ends with OapTimeoutError", async () => {
    const s = client.stream(ECHO, { meta: { open: true }, deadlineMs: 1_000 });
    await s.write("partial");
    const chunks = s[Symbol.asyncIterator]();
    // What was echoed before the deadline is delivered; then the deadline ends the stream.
    expect((await chunks.next()).value?.toString()).toBe("partial");
    await expect(chunks.next()).rejects.toBeInstanceOf(OapTimeoutError);
    await expect(s.write("late")).rejects.toBeInstanceOf(OapTimeoutError);
  });

  it("keeps working after deadlines expired", async () => {
    const res = await client.request(ECHO, { body: "still here" });
    expect(res.body.toString()).toBe("still here");
  });

  it("fails with OapAbortError when the caller's signal aborts", async () => {
    const controller = new AbortController();
    const pending = client
      .request(ECHO, { meta: { delay_ms: 2_000 }, signal: controller.signal })
      .catch((e: unknown) => e);
    controller.abort();
    const error = await pending;
    expect(error).toBeInstanceOf(OapAbortError);
    expect(error).toMatchObject({ reason: "aborted", retryable: false });
  });

  it("fails at once with a signal that is already aborted", async () => {
    await expect(client.request(ECHO, { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(OapAbortError);
    const s = client.stream(ECHO, { signal: AbortSignal.abort() });
    await expect(s.response).rejects.toBeInstanceOf(OapAbortError);
  });
});
