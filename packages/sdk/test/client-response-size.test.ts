import { randomBytes } from "node:crypto";
import { AppProtoId } from "@omnigate/oap";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLIENT_DEFAULTS, connect, type OapClient, OapClientError } from "../src/index.js";
import { startTestNode, type TestNode } from "./support/node.js";

const ECHO = AppProtoId.ECHO;
const MiB = 1024 * 1024;

describe("maxResponseBytes", () => {
  let t: TestNode;
  let client: OapClient;

  beforeAll(async () => {
    t = await startTestNode();
    // A small buffer bound: bytes left behind by a refused response would stall the connection.
    client = await connect(t.node.oapUrl, {
      ca: t.node.caPem,
      maxBufferedBytes: MiB,
      maxResponseBytes: 1000,
    });
  });
  afterAll(async () => {
    await client?.close();
    await t?.stop();
  });

  it("defaults to 64 MiB", () => {
    expect(CLIENT_DEFAULTS.maxResponseBytes).toBe(64 * MiB);
  });

  it("fails a request whose response exceeds the per-call bound with 413 payload_too_large", async () => {
    const error = await client
      .request(ECHO, { body: randomBytes(4 * MiB), maxResponseBytes: MiB })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OapClientError);
    expect(error).toMatchObject({ code: 413, reason: "payload_too_large", retryable: false });
    expect((error as OapClientError).corrId).toBeTypeOf("bigint");
  });

  it("discards the rest of that response, so the connection keeps working", async () => {
    for (let i = 0; i < 3; i++) {
      await expect(
        client.request(ECHO, { body: randomBytes(4 * MiB), maxResponseBytes: 64 * 1024, deadlineMs: 10_000 }),
      ).rejects.toMatchObject({ reason: "payload_too_large" });
    }
    const res = await client.request(ECHO, { body: "after", deadlineMs: 10_000 });
    expect(res.body.toString()).toBe("after");
  });

  it("applies the client's default and lets a call raise it", async () => {
    expect((await client.request(ECHO, { body: Buffer.alloc(1000) })).body.byteLength).toBe(1000);
    await expect(client.request(ECHO, { body: Buffer.alloc(1001) })).rejects.toMatchObject({
      code: 413,
      reason: "payload_too_large",
    });
    const res = await client.request(ECHO, { body: Buffer.alloc(1001), maxResponseBytes: 5000 });
    expect(res.body.byteLength).toBe(1001);
  });

  it("refuses a bound that is not a positive number", async () => {
    await expect(connect(t.node.oapUrl, { ca: t.node.caPem, maxResponseBytes: 0 })).rejects.toThrow(
      /maxResponseBytes/,
    );
    await expect(client.request(ECHO, { maxResponseBytes: -1 })).rejects.toThrow(/maxResponseBytes/);
  });
});
