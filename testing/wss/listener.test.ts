import { request } from "node:https";
import type { Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { encodeFrame, encodeStartPayload, Flags } from "@omnigate/oap";
import { afterEach, describe, expect, it } from "vitest";
import type { OmnigateNode } from "../../packages/node/src/index.js";
import { eventually } from "../../packages/sdk/test/support/node.js";
import { TestScope } from "../support/scope.js";

const scope = new TestScope();
afterEach(() => scope.close());

const hello = (corrId: bigint) =>
  encodeFrame({
    flags: Flags.REQ | Flags.START | Flags.END,
    appProtoId: 0,
    corrId,
    payload: encodeStartPayload({}),
  });

const echoStart = (corrId: bigint, body: string, end: boolean, meta: Record<string, unknown> = {}) =>
  encodeFrame({
    flags: Flags.REQ | Flags.START | (end ? Flags.END : 0),
    appProtoId: 0x0101,
    corrId,
    payload: encodeStartPayload(meta, Buffer.from(body)),
  });

/** Short limits so each test sees its timeout; the assertions are about what happens, not when. */
const LIMITS = {
  handshakeTimeoutMs: 300,
  firstHeaderTimeoutMs: 300,
  frameTimeoutMs: 300,
  idleTimeoutMs: 400,
  writeStallTimeoutMs: 2_000,
  writeBufferBytes: 64 * 1024,
};

/** A client WebSocket frame built by hand (masked with a zero key), declaring `declared` payload bytes. */
function clientFrame(opcode: number, fin: boolean, payload: Buffer, declared = payload.byteLength): Buffer {
  let head: Buffer;
  if (declared < 126) {
    head = Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | declared]);
  } else if (declared < 0x1_0000) {
    head = Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | 126, declared >> 8, declared & 0xff]);
  } else {
    head = Buffer.alloc(10);
    head[0] = (fin ? 0x80 : 0) | opcode;
    head[1] = 0x80 | 127;
    head.writeUInt32BE(declared, 6);
  }
  return Buffer.concat([head, Buffer.alloc(4), payload]);
}

/** The TLS socket under a raw WebSocket, to put hand-made WebSocket frames on the wire. */
function rawSocket(conn: { ws: unknown }): Socket {
  return (conn.ws as { _socket: Socket })._socket;
}

async function freed(node: OmnigateNode): Promise<void> {
  await eventually(() => {
    const a = node.admission();
    return a.connections === 0 && a.inflight === 0 && a.buffered_bytes === 0;
  });
}

/** Status and body of a plain HTTPS request to the WebSocket listener. */
function plainGet(node: OmnigateNode, path: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL((node.wsUrl as string).replace(/^wss:/, "https:"));
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path, ca: node.caPem, servername: "localhost" }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => {
        body += d.toString();
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("the WebSocket listener", () => {
  it("serves HELLO listing both transports, and counts its connections and requests by transport", async () => {
    const node = await scope.node();
    expect(node.wsUrl).toMatch(/^wss:\/\/127\.0\.0\.1:\d+\/oap$/);
    const conn = await scope.rawWss(node);
    conn.write(hello(1n));
    const reply = await conn.waitFor((f) => f.corrId === 1n);
    expect(reply?.code).toBe(200);
    expect(reply?.meta?.transports).toEqual(["tls", "wss"]);
    expect(conn.ws.protocol).toBe("oap.1");
    const metrics = await (await fetch(`${node.adminUrl}/metrics`)).text();
    expect(metrics).toContain('connections{transport="wss"} 1');
    expect(metrics).toContain('transport_requests_total{transport="wss"} 1');
    expect(metrics).toContain('transport_requests_total{transport="tls"} 0');
  });

  it("answers a plain HTTPS request with 426 and a pointer to the endpoint", async () => {
    const node = await scope.node();
    const res = await plainGet(node, "/oap");
    expect(res.status).toBe(426);
    expect(res.body).toMatch(/wss:\/\/<host>\/oap.*oap\.1/);
  });

  it("is off when ws.listen is empty, and HELLO then lists TLS only", async () => {
    const node = await scope.node({ wsListen: "" });
    expect(node.wsUrl).toBeUndefined();
    const conn = await scope.raw(node);
    conn.write(hello(1n));
    expect((await conn.waitFor((f) => f.corrId === 1n))?.meta?.transports).toEqual(["tls"]);
  });

  it("lets in-flight streams finish on close, refuses new ones with 503, then closes with 1001", async () => {
    const node = await scope.node();
    const conn = await scope.rawWss(node);
    conn.write(echoStart(1n, "first ", false));
    expect((await conn.waitFor((f) => f.corrId === 1n))?.code).toBe(200);

    const closing = node.close();
    conn.write(echoStart(2n, "late", true));
    const refused = await conn.waitFor((f) => f.corrId === 2n);
    expect(refused?.code).toBe(503);
    expect(refused?.meta?.reason).toBe("shutting_down");

    conn.write(
      encodeFrame({
        flags: Flags.REQ | Flags.END,
        appProtoId: 0x0101,
        corrId: 1n,
        payload: Buffer.from("last"),
      }),
    );
    const end = await conn.waitFor((f) => f.corrId === 1n && (f.flags & Flags.END) !== 0);
    expect(end?.code).toBe(200);
    const echoed = conn.frames
      .filter((f) => f.corrId === 1n)
      .map((f) => Buffer.from(f.body).toString())
      .join("");
    expect(echoed).toBe("first last");
    await closing;
    expect(await conn.waitClosed()).toBe(true);
    expect(conn.closeCode).toBe(1001);
  });
});

describe("connection time limits over WebSocket", () => {
  it("closes a WebSocket whose first frame never comes, with 408 request_timeout and code 1002", async () => {
    const node = await scope.node(LIMITS);
    const conn = await scope.rawWss(node);
    expect(await conn.waitClosed()).toBe(true);
    expect(conn.frames.find((f) => f.code === 408)?.meta?.reason).toBe("request_timeout");
    expect(conn.closeCode).toBe(1002);
    await freed(node);
  });

  it("closes a WebSocket whose message never completes (slow-loris), freeing its streams", async () => {
    const node = await scope.node(LIMITS);
    const conn = await scope.rawWss(node);
    conn.write(echoStart(1n, "held", true, { delay_ms: 10_000 }));
    await eventually(() => node.admission().inflight === 1);
    // The first fragment of a message, then a byte-sized fragment now and then, never the last.
    const slow = echoStart(2n, "x".repeat(4_000), true);
    conn.ws.send(slow.subarray(0, 100), { binary: true, fin: false });
    let sent = 100;
    const trickle = setInterval(() => {
      if (!conn.closed) conn.ws.send(slow.subarray(sent, ++sent), { binary: true, fin: false });
    }, 20);
    scope.defer(() => clearInterval(trickle));

    expect(await conn.waitClosed()).toBe(true);
    expect(conn.frames.find((f) => f.code === 408)?.meta?.reason).toBe("request_timeout");
    await freed(node);
  });

  it("does not let pings between fragments keep a half-sent message alive", async () => {
    const node = await scope.node(LIMITS);
    const conn = await scope.rawWss(node);
    // A message announcing 1 MB of which 100 KB arrive, then a ping now and then, never the rest.
    rawSocket(conn).write(clientFrame(2, false, Buffer.alloc(100_000, 1), 1_000_000));
    const pings = setInterval(() => {
      if (!conn.closed) rawSocket(conn).write(clientFrame(9, true, Buffer.alloc(0)));
    }, 100);
    scope.defer(() => clearInterval(pings));
    // What ws holds of the message counts as the connection's buffered bytes meanwhile.
    await eventually(() => conn.closed || node.admission().buffered_bytes >= 100_000);
    expect(await conn.waitClosed()).toBe(true);
    expect(conn.frames.find((f) => f.code === 408)?.meta?.reason).toBe("request_timeout");
    expect(conn.closeCode).toBe(1002);
    await freed(node);
  });

  it("times out a message that starts in the same read as a whole one and then stalls", async () => {
    const node = await scope.node({ ...LIMITS, idleTimeoutMs: 60_000 });
    const conn = await scope.rawWss(node);
    const whole = clientFrame(2, true, Buffer.from(echoStart(1n, "whole", true)));
    const started = clientFrame(2, true, Buffer.alloc(50, 1), 100_000);
    rawSocket(conn).write(Buffer.concat([whole, started]));
    expect((await conn.waitFor((f) => f.corrId === 1n))?.code).toBe(200);
    expect(await conn.waitClosed()).toBe(true);
    expect(conn.frames.find((f) => f.code === 408)?.meta?.reason).toBe("request_timeout");
    expect(conn.closeCode).toBe(1002);
  });

  it("closes refused upgrades itself, even when the client never closes its side", async () => {
    const node = await scope.node(LIMITS);
    const { hostname, port } = new URL((node.wsUrl as string).replace(/^wss:/, "https:"));
    const answers: string[] = [];
    for (const [path, protocol] of [
      ["/elsewhere", "oap.1"],
      ["/oap", "chat"],
    ]) {
      // allowHalfOpen: the client keeps its side open after the node's answer.
      const socket = tlsConnect({
        host: hostname,
        port: Number(port),
        ca: node.caPem,
        servername: "localhost",
        allowHalfOpen: true,
      } as unknown as Parameters<typeof tlsConnect>[0]);
      scope.defer(() => socket.destroy());
      socket.on("error", () => {});
      socket.on("data", (d: Buffer) => answers.push(d.toString().split("\r\n")[0] as string));
      await new Promise((resolve) => socket.once("secureConnect", resolve));
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ${protocol}\r\n\r\n`,
      );
    }
    await eventually(() => answers.length === 2);
    expect(answers.sort()).toEqual(["HTTP/1.1 400 Bad Request", "HTTP/1.1 404 Not Found"]);
    // Their connection slots are free though the clients hold their sockets open.
    await eventually(() => node.admission().connections === 0);
  });

  it("refuses a text message with bad UTF-8 as any text message: 400 bad_frame, then 1003", async () => {
    const node = await scope.node();
    const conn = await scope.rawWss(node);
    rawSocket(conn).write(clientFrame(1, true, Buffer.from([0xff, 0xfe, 0x41])));
    expect(await conn.waitClosed()).toBe(true);
    expect(conn.frames.map((f) => [f.code, f.meta?.reason])).toEqual([[400, "bad_frame"]]);
    expect(conn.closeCode).toBe(1003);
  });

  it("closes an idle WebSocket after its last reply with 1000 and no error", async () => {
    const node = await scope.node(LIMITS);
    const conn = await scope.rawWss(node);
    conn.write(echoStart(1n, "ping", true));
    expect((await conn.waitFor((f) => f.corrId === 1n))?.code).toBe(200);
    expect(await conn.waitClosed()).toBe(true);
    expect(conn.closeCode).toBe(1000);
    expect(conn.frames.map((f) => f.code)).toEqual([200]);
  });

  it("closes an upgrade request that never finishes", async () => {
    const node = await scope.node(LIMITS);
    const { hostname, port } = new URL((node.wsUrl as string).replace(/^wss:/, "https:"));
    const socket = tlsConnect({
      host: hostname,
      port: Number(port),
      ca: node.caPem,
      servername: "localhost",
    });
    scope.defer(() => socket.destroy());
    socket.on("error", () => {});
    let answer = "";
    socket.on("data", (d: Buffer) => {
      answer += d.toString();
    });
    let closed = false;
    socket.on("close", () => {
      closed = true;
    });
    await new Promise((resolve) => socket.once("secureConnect", resolve));
    socket.write("GET /oap HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    await eventually(() => closed);
    expect(answer).toMatch(/^HTTP\/1\.1 408 Request Timeout/);
    await freed(node);
  });

  it("stops reading from a browser that does not read its replies, holds a bounded backlog, then lets it go", async () => {
    const node = await scope.node(LIMITS);
    const conn = await scope.rawWss(node);
    conn.ws.pause(); // reads nothing from here on
    const body = "b".repeat(60 * 1024);
    for (let i = 1; i <= 200; i++) conn.write(echoStart(BigInt(i), body, true));
    // 12 MB of replies cannot all fit in the socket buffers: the node backs up, then stops
    // reading this connection instead of queueing every reply.
    await eventually(() => node.admission().buffered_bytes > 0);
    let most = 0;
    await eventually(() => {
      most = Math.max(most, node.admission().buffered_bytes);
      return node.admission().connections === 0;
    });
    // Requests that arrived while it was over its write bound were never read: it holds at
    // most the bound plus what one read's worth of requests (a socket buffer) produced.
    expect(most).toBeLessThan(4 * 1024 * 1024);
    await freed(node);
    conn.ws.resume();
    expect(await conn.waitClosed()).toBe(true);
    expect(conn.frames.length).toBeLessThan(200);
  });
});
