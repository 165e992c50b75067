import { bucketLength, type PaddingScheme } from "@omnigate/oap";
import { connect, type OapClient, type OapEvent, type ShapingOptions } from "@omnigate/sdk";
import { afterEach, describe, expect, it } from "vitest";
import type { OmnigateNode } from "../../packages/node/src/index.js";
import { TestScope } from "../support/scope.js";
import { startTlsTap, type TappedConnection, tls13Plaintext } from "../support/tls-tap.js";

/**
 * Traffic shaping over real TLS (specs/oap-1.md §10.1), seen as an on-path observer sees it:
 * the lengths of TLS records between an SDK client and a node, through a TCP relay.
 */

const scope = new TestScope();
afterEach(() => scope.close());

const ECHO = 0x0101;
/** TLS 1.3 cuts a write into records of at most 16 KiB of plaintext. */
const MAX_RECORD_PLAINTEXT = 16_384;

/** A client through a fresh relay, and the relay's view of its connection (from after HELLO). */
async function observedClient(
  node: OmnigateNode,
  shaping?: ShapingOptions,
  credentials: { cap?: string; tenant?: bigint } = {},
): Promise<{ client: OapClient; wire: () => { up: number[]; down: number[] } }> {
  const { hostname, port } = new URL(node.oapUrl.replace("oap+tls:", "https:"));
  const tap = await startTlsTap({ host: hostname, port: Number(port) });
  scope.defer(tap.close);
  let seen: TappedConnection | undefined;
  tap.onConnection((connection) => {
    seen ??= connection;
  });
  const client = await connect(`oap+tls://${tap.address.host}:${tap.address.port}`, {
    ca: node.caPem,
    servername: "localhost",
    ...credentials,
    ...(shaping ? { shaping } : {}),
  });
  scope.defer(() => client.close());
  const packets = (seen as TappedConnection).packets;
  // Records up to the HELLO reply: the handshake, session tickets, the unshaped HELLO itself.
  const skip = packets.length;
  const lengths = (dir: 1 | -1) =>
    packets
      .slice(skip)
      .filter((p) => p.dir === dir)
      .map((p) => p.bytes);
  return { client, wire: () => ({ up: lengths(1), down: lengths(-1) }) };
}

/** The TLS writes an observer rebuilds from records (lengths on the wire): a full 16 KiB record continues a write. */
function writes(records: number[]): number[] {
  const out: number[] = [];
  let sum = 0;
  for (const record of records) {
    const plaintext = tls13Plaintext(record);
    sum += plaintext;
    if (plaintext < MAX_RECORD_PLAINTEXT) {
      out.push(sum);
      sum = 0;
    }
  }
  if (sum > 0) out.push(sum);
  return out;
}

/** Echo requests whose bodies grow by one byte each: unshaped, every write on the wire differs. */
async function echoSeries(client: OapClient, from: number, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const body = Buffer.alloc(from + i, i);
    const reply = await client.request(ECHO, { body });
    expect(reply.code).toBe(200);
    expect(Buffer.compare(reply.body, body)).toBe(0);
  }
}

function expectBuckets(sizes: number[], scheme: PaddingScheme): void {
  expect(sizes.length).toBeGreaterThan(0);
  for (const size of sizes)
    expect(bucketLength(size, scheme), `${size} is not a ${scheme} bucket`).toBe(size);
}

/** Waits (bounded) until `check` holds: for effects of timers whose firing time is not ours to pick. */
async function eventually(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not reached");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("traffic shaping between the SDK and a node", () => {
  it("pads every TLS write both ways to a bucket when both sides have it on", async () => {
    const node = await scope.node();
    const { client, wire } = await observedClient(node, { padding: "pow2" });
    expect(client.hello.shaping).toEqual({
      padding: "pow2",
      jitter_ms: 0,
      cover_hz: 0,
      cover_max_bytes: 4096,
    });
    await echoSeries(client, 1000, 20);
    // A body of ~40 KB: its writes span several records.
    const big = Buffer.alloc(40_000, 7);
    expect(Buffer.compare((await client.request(ECHO, { body: big })).body, big)).toBe(0);
    const { up, down } = wire();
    expectBuckets(writes(down), "pow2");
    expectBuckets(writes(up), "pow2");
    // Twenty different request sizes, one size on the wire.
    expect(new Set(writes(down).slice(0, 20)).size).toBe(1);
    expect(node.metrics.shaping.snapshot()).toMatchObject({ connections: 1, padFrames: expect.any(Number) });
    expect(node.metrics.shaping.snapshot().padBytes).toBeGreaterThan(0);
  });

  it("keeps writes at Padmé buckets under jitter and cover traffic, and the client never sees PAD frames", async () => {
    const node = await scope.node();
    const { client, wire } = await observedClient(node, {
      padding: "padme",
      jitterMs: 5,
      coverHz: 20,
      coverMaxBytes: 3000,
    });
    const events: OapEvent[] = [];
    client.on("event", (event) => events.push(event));
    await echoSeries(client, 500, 10);
    await eventually(() => node.metrics.shaping.snapshot().coverBursts >= 3);
    await echoSeries(client, 2000, 5);
    const { up, down } = wire();
    expectBuckets(writes(down), "padme");
    expectBuckets(writes(up), "padme");
    expect(events).toEqual([]);
  });

  it("grants no more than the node's maxima", async () => {
    const node = await scope.node({ shapingMaxJitterMs: 3, shapingMaxCoverHz: 0, shapingMaxCoverBytes: 100 });
    const { client } = await observedClient(node, {
      padding: "padme",
      jitterMs: 40,
      coverHz: 10,
      coverMaxBytes: 8000,
    });
    expect(client.hello.shaping).toEqual({
      padding: "padme",
      jitter_ms: 3,
      cover_hz: 0,
      cover_max_bytes: 100,
    });
    await echoSeries(client, 10, 3);
  });

  it("with capabilities checked, grants cover traffic only to a HELLO that bound one", async () => {
    const node = await scope.node({ authMode: "on" });
    const asked = { padding: "pow2" as const, jitterMs: 2, coverHz: 10, coverMaxBytes: 1000 };
    const anonymous = await observedClient(node, asked);
    expect(anonymous.client.hello.shaping).toEqual({
      padding: "pow2",
      jitter_ms: 2,
      cover_hz: 0,
      cover_max_bytes: 1000,
    });
    const minted = await node.authority.mint({ tenant: 7n }, "test");
    const bound = await observedClient(node, asked, { cap: minted.token, tenant: 7n });
    expect(bound.client.hello.cap).toMatchObject({ bound: true });
    expect(bound.client.hello.shaping).toEqual({
      padding: "pow2",
      jitter_ms: 2,
      cover_hz: 10,
      cover_max_bytes: 1000,
    });
  });

  it("works unshaped with a node that has shaping off: no PAD frame either way", async () => {
    const node = await scope.node({ shapingEnabled: "false" });
    const { client, wire } = await observedClient(node, { padding: "pow2", jitterMs: 5, coverHz: 20 });
    expect(client.hello.shaping).toBeUndefined();
    await echoSeries(client, 1000, 10);
    const { up, down } = wire();
    // Each write is exactly its frame: one byte more per request, nothing added.
    expect(steps(writes(up))).toEqual(Array(9).fill(1));
    expect(steps(writes(down))).toEqual(Array(9).fill(1));
    expect(node.metrics.shaping.snapshot()).toEqual({
      connections: 0,
      padBytes: 0,
      padFrames: 0,
      coverBursts: 0,
    });
  });

  it("sends no PAD frame to a client that did not ask for shaping", async () => {
    const node = await scope.node();
    const { client, wire } = await observedClient(node);
    expect(client.hello.shaping).toBeUndefined();
    await echoSeries(client, 1000, 10);
    const { up, down } = wire();
    expect(steps(writes(up))).toEqual(Array(9).fill(1));
    expect(steps(writes(down))).toEqual(Array(9).fill(1));
    expect(node.metrics.shaping.snapshot().padFrames).toBe(0);
  });

  it("leaves WebSocket connections unshaped", async () => {
    const node = await scope.node();
    const client = await connect(node.wsUrl as string, {
      ca: node.caPem,
      servername: "localhost",
      shaping: { padding: "pow2", coverHz: 20 },
    });
    scope.defer(() => client.close());
    expect(client.hello.shaping).toBeUndefined();
    await echoSeries(client, 100, 3);
    expect(node.metrics.shaping.snapshot().connections).toBe(0);
  });
});

/** Differences between consecutive sizes. */
function steps(sizes: number[]): number[] {
  return sizes.slice(1).map((size, i) => size - (sizes[i] as number));
}
