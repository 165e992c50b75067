import { AppProtoId } from "@omnigate/oap";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  connect,
  OapAbortError,
  type OapClient,
  type OapStream,
  OapTimeoutError,
  type StreamOptions,
} from "../src/index.js";
import { eventually, startTestNode, type TestNode } from "./support/node.js";
import { TEST_APP, TestService } from "./support/test-service.js";

const ECHO = AppProtoId.ECHO;
const MiB = 1024 * 1024;
/** The client's default maxBufferedBytes. */
const BUFFER_BOUND = 8 * MiB;

const unread = (streams: OapStream[]) => streams.reduce((sum, s) => sum + s.bufferedBytes, 0);

/** Reads a stream's body to its end. */
async function drain(s: OapStream): Promise<number> {
  let bytes = 0;
  for await (const chunk of s) bytes += chunk.byteLength;
  return bytes;
}

describe("response bodies nobody reads", () => {
  let t: TestNode;
  const clients: OapClient[] = [];

  beforeAll(async () => {
    t = await startTestNode({ services: [new TestService()] });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await t?.stop();
  });

  async function client(): Promise<OapClient> {
    const c = await connect(t.node.oapUrl, { ca: t.node.caPem });
    clients.push(c);
    return c;
  }

  /**
   * 12 streams whose 1 MiB bodies are never read. Resolves once more than maxBufferedBytes
   * sit unread, i.e. the connection has stopped reading its socket.
   */
  async function unreadStreams(c: OapClient, options: StreamOptions = {}): Promise<OapStream[]> {
    const streams = Array.from({ length: 12 }, () =>
      c.stream(TEST_APP, { ...options, meta: { op: "blob", bytes: MiB } }),
    );
    await Promise.all(streams.map((s) => s.end()));
    await eventually(() => unread(streams) > BUFFER_BOUND);
    return streams;
  }

  it("keeps HELLO and echo working after discard() of the unread streams", async () => {
    const c = await client();
    const streams = await unreadStreams(c);
    for (const s of streams) s.discard();
    expect(unread(streams)).toBe(0);

    const hello = await c.request(AppProtoId.CONTROL, { deadlineMs: 10_000 });
    expect(hello.meta.versions).toContain(1);
    const echo = await c.request(ECHO, { body: "still reading", deadlineMs: 10_000 });
    expect(echo.body.toString()).toBe("still reading");

    // Whatever still arrives for a discarded stream is dropped; its iteration ends at once.
    for (const s of streams) expect(await drain(s)).toBe(0);
    expect(unread(streams)).toBe(0);
  });

  it("unblocks the connection by itself once the finished streams' deadlines pass while it is paused", async () => {
    const c = await client();
    const streams = await unreadStreams(c, { deadlineMs: 3_000 });

    const hello = await c.request(AppProtoId.CONTROL, { deadlineMs: 20_000 });
    expect(hello.meta.versions).toContain(1);
    const echo = await c.request(ECHO, { body: "unblocked", deadlineMs: 20_000 });
    expect(echo.body.toString()).toBe("unblocked");

    // The oldest finished stream was dropped first; a late reader learns it, not a short body.
    const first = streams[0] as OapStream;
    expect(first.bufferedBytes).toBe(0);
    await expect(drain(first)).rejects.toBeInstanceOf(OapTimeoutError);
  });

  it("drops a finished stream's unread body when the caller's signal aborts after the response ended", async () => {
    const c = await client();
    const controller = new AbortController();
    const s = c.stream(TEST_APP, { meta: { op: "blob", bytes: 4096 }, signal: controller.signal });
    await s.end();
    // 4096 bytes travel in the response's only frame (START|END): the response has ended.
    expect((await s.response).code).toBe(200);
    controller.abort();
    await expect(drain(s)).rejects.toBeInstanceOf(OapAbortError);
    expect(s.bufferedBytes).toBe(0);
  });

  it("discards the rest of the body when the reader breaks out of for await", async () => {
    const c = await client();
    const s = c.stream(TEST_APP, { meta: { op: "blob", bytes: 3 * MiB } });
    await s.end();
    let chunks = 0;
    for await (const _ of s) {
      chunks++;
      break;
    }
    expect(chunks).toBe(1);
    expect(s.bufferedBytes).toBe(0);
    // Later frames of the stream are dropped as they arrive.
    await c.request(ECHO, { body: "after" });
    expect(s.bufferedBytes).toBe(0);
  });

  it("discards through the iterator's return() even before the first next()", async () => {
    const c = await client();
    const s = c.stream(TEST_APP, { meta: { op: "blob", bytes: 4096 } });
    await s.end();
    await s.response;
    expect(s.bufferedBytes).toBe(4096);
    await s[Symbol.asyncIterator]().return?.();
    expect(s.bufferedBytes).toBe(0);
    expect(await drain(s)).toBe(0);
  });
});
