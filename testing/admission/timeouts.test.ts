import { connect as tcpConnect } from "node:net";
import { encodeFrame, encodeStartPayload, Flags } from "@omnigate/oap";
import { afterEach, describe, expect, it } from "vitest";
import type { OmnigateNode } from "../../packages/node/src/index.js";
import { eventually } from "../../packages/sdk/test/support/node.js";
import { TestScope } from "../support/scope.js";

const scope = new TestScope();
afterEach(() => scope.close());

/** Short limits so each test sees its timeout; the assertions are about what happens, not when. */
const LIMITS = {
  handshakeTimeoutMs: 300,
  firstHeaderTimeoutMs: 300,
  frameTimeoutMs: 300,
  idleTimeoutMs: 400,
  writeStallTimeoutMs: 300,
  writeBufferBytes: 64 * 1024,
};

const echo = (corrId: bigint, body: Uint8Array | string, meta: Record<string, unknown> = {}) =>
  encodeFrame({
    flags: Flags.REQ | Flags.START | Flags.END,
    appProtoId: 0x0101,
    corrId,
    payload: encodeStartPayload(meta, typeof body === "string" ? Buffer.from(body) : body),
  });

/**
 * The connection is gone on the node and everything it held is released. Allowed 20 s: a
 * loaded machine can take seconds to work through a backed-up connection's requests first.
 */
async function freed(node: OmnigateNode): Promise<void> {
  await eventually(() => {
    const a = node.admission();
    return a.connections === 0 && a.inflight === 0 && a.buffered_bytes === 0;
  }, 20_000);
}

describe("connection time limits", () => {
  it("closes a TCP connection that never completes the TLS handshake", async () => {
    const node = await scope.node(LIMITS);
    const { port } = new URL(node.oapUrl.replace("oap+tls:", "https:"));
    const socket = tcpConnect(Number(port), "127.0.0.1");
    scope.defer(() => socket.destroy());
    let closed = false;
    socket.on("close", () => {
      closed = true;
    });
    socket.on("error", () => {});
    await new Promise((resolve) => socket.once("connect", resolve));
    // Half a ClientHello record header, then nothing.
    socket.write(Buffer.from([0x16, 0x03]));
    await eventually(() => node.admission().connections === 1);

    await eventually(() => closed);
    await freed(node);
  });

  it("closes a connection whose first frame header does not arrive, with 408 request_timeout", async () => {
    const node = await scope.node(LIMITS);
    const conn = await scope.raw(node);
    conn.write(Buffer.alloc(10)); // bytes, but never a whole header

    expect(await conn.waitClosed()).toBe(true);
    const error = conn.frames.find((f) => f.code === 408);
    expect(error?.meta?.reason).toBe("request_timeout");
    await freed(node);
  });

  it("closes a slow-loris connection whose frame never completes, freeing its streams", async () => {
    const node = await scope.node(LIMITS);
    const conn = await scope.raw(node);
    // One open stream (echo holds it), then a frame that trickles in a byte at a time.
    conn.write(echo(1n, "held", { delay_ms: 10_000 }));
    await eventually(() => node.admission().inflight === 1);
    // Its header and a little of its body at once, then the rest a byte at a time.
    const slow = echo(2n, Buffer.alloc(4_000, 0x61));
    let sent = 100;
    conn.write(slow.subarray(0, sent));
    const trickle = setInterval(() => {
      if (sent < slow.byteLength && !conn.closed) conn.write(slow.subarray(sent, ++sent));
    }, 20);
    scope.defer(() => clearInterval(trickle));

    expect(await conn.waitClosed()).toBe(true);
    expect(sent).toBeLessThan(slow.byteLength);
    expect(conn.frames.find((f) => f.code === 408)?.meta?.reason).toBe("request_timeout");
    await freed(node);
  });

  it("closes an idle connection after its last reply, without an error", async () => {
    const node = await scope.node(LIMITS);
    const conn = await scope.raw(node);
    conn.write(echo(1n, "ping"));
    expect((await conn.waitFor((f) => f.corrId === 1n))?.code).toBe(200);

    expect(await conn.waitClosed()).toBe(true);
    expect(conn.frames.map((f) => f.code)).toEqual([200]);
    await freed(node);
  });

  it("keeps a connection with an open stream past the idle limit", async () => {
    const node = await scope.node(LIMITS);
    const conn = await scope.raw(node);
    // The reply comes after twice the idle limit: the connection must still be there for it.
    conn.write(echo(1n, "slow", { delay_ms: 2 * LIMITS.idleTimeoutMs }));
    const reply = await conn.waitFor((f) => f.corrId === 1n);
    expect(reply?.code).toBe(200);
  });

  it("disconnects a client that sends requests but never reads the replies, and drops what was queued for it", async () => {
    // A longer stall limit than the others: the backed-up state must last long enough for the
    // 50 ms sweep to see it even on a loaded machine.
    const node = await scope.node({ ...LIMITS, writeStallTimeoutMs: 2_000 });
    const conn = await scope.raw(node);
    conn.socket.pause(); // reads nothing from here on
    const body = Buffer.alloc(60 * 1024, 0x62);
    for (let i = 1; i <= 200; i++) conn.write(echo(BigInt(i), body));
    // 12 MB of replies cannot all fit in the socket buffers: replies back up on the node.
    await eventually(() => node.admission().buffered_bytes > 0);

    await freed(node);
    conn.socket.resume();
    expect(await conn.waitClosed()).toBe(true);
    expect(conn.frames.length).toBeLessThan(200);
  });
});
