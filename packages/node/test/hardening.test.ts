import { once } from "node:events";
import { writeFileSync } from "node:fs";
import { createServer, connect as tcpConnect } from "node:net";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { encodeFrame, encodeStartPayload, Flags, OapError } from "@omnigate/oap";
import type { Service } from "@omnigate/sdk/internal";
import { afterEach, describe, expect, it } from "vitest";
import { RawOapConnection } from "../../../testing/support/raw-oap.js";
import { TestScope } from "../../../testing/support/scope.js";
import { tempDir } from "../../../testing/support/temp-dir.js";
import { startNode } from "../src/index.js";

const scope = new TestScope();
afterEach(() => scope.close());

function portOf(url: string): number {
  return Number(new URL(url.replace(/^oap\+tls:/, "https:")).port);
}

const request = (
  corrId: bigint,
  appProtoId: number,
  meta: Record<string, unknown>,
  body = "",
  flags: number = Flags.END,
) =>
  encodeFrame({
    flags: Flags.REQ | Flags.START | flags,
    appProtoId,
    corrId,
    payload: encodeStartPayload(meta, Buffer.from(body)),
  });

async function freePort(): Promise<number> {
  const s = createServer().listen(0, "127.0.0.1");
  await once(s, "listening");
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe("a client that does not read its replies", () => {
  it("stops being read once its queued replies pass write_buffer_bytes, and loses nothing", async () => {
    const n = await scope.node({ writeBufferBytes: 256 * 1024 });
    const c = await scope.raw(n);
    c.socket.pause(); // never read: replies pile up on the node's side
    const count = 16_384;
    const body = "x".repeat(1024);
    for (let i = 1; i <= count; i++) c.write(request(BigInt(i), 0x0101, {}, body));

    // The node must stop reading: our unsent bytes then stay in our own socket buffer.
    let previous = -1;
    while (c.socket.writableLength !== previous) {
      previous = c.socket.writableLength;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(c.socket.writableLength).toBeGreaterThan(4 * 1024 * 1024);

    // Reading again lets everything through: every request gets its reply.
    c.socket.resume();
    await c.waitFor((f) => f.corrId === BigInt(count), 60_000);
    const answered = new Set(c.frames.filter((f) => f.code === 200).map((f) => f.corrId));
    expect(answered.size).toBe(count);
    // 16 MiB through a paused socket: slow on a busy two-core machine, so more than the default 30 s.
  }, 90_000);
});

describe("stopping", () => {
  it("finishes close() when a stream it waits for is aborted by a protocol violation", async () => {
    const n = await scope.node({ drainTimeoutMs: 600_000 });
    const c = await scope.raw(n);
    c.write(request(1n, 0x0101, {}, "open", 0));
    await c.waitFor((f) => f.corrId === 1n);
    const closing = n.close();
    c.write(request(1n, 0x0101, {}, "dup", 0)); // duplicate START aborts stream 1
    await closing; // a hang here (until the 10-minute drain timeout) fails the test by its timeout
    expect(n.readiness().ready).toBe(false);
  });

  it("finishes close() even when a client is still in its TLS handshake", async () => {
    const n = await scope.node({ drainTimeoutMs: 100 });
    const tcp = tcpConnect({ host: "127.0.0.1", port: portOf(n.oapUrl) });
    await once(tcp, "connect");
    const tcpClosed = once(tcp, "close");
    const closing = n.close();
    // A handshake attempted after the close grace period: the node must not wait for it.
    await new Promise((r) => setTimeout(r, 1_500));
    if (!tcp.destroyed)
      tlsConnect({ socket: tcp, ca: n.caPem, servername: "localhost" }).on("error", () => {});
    await closing;
    await tcpClosed;
  });

  it("leaves nothing listening when the start fails", async () => {
    const blocker = createServer().listen(0, "127.0.0.1");
    await once(blocker, "listening");
    scope.defer(() => new Promise((r) => blocker.close(r)));
    const adminPort = (blocker.address() as { port: number }).port;
    const oapPort = await freePort();
    const dir = tempDir();
    scope.defer(dir.remove);
    await expect(
      startNode({
        overrides: {
          listen: `127.0.0.1:${oapPort}`,
          wsListen: "127.0.0.1:0",
          admin: `127.0.0.1:${adminPort}`,
          dataDir: dir.path,
        },
        logLevel: "silent",
      }),
    ).rejects.toMatchObject({ code: "EADDRINUSE" });
    const probe = tcpConnect({ host: "127.0.0.1", port: oapPort });
    const [err] = await once(probe, "error");
    expect((err as NodeJS.ErrnoException).code).toBe("ECONNREFUSED");
  });
});

describe("stream endings", () => {
  it("ends an aborted stream whose reply began with an error frame without START", async () => {
    const n = await scope.node();
    const c = await scope.raw(n);
    c.write(request(5n, 0x0101, {}, "", 0));
    const head = await c.waitFor((f) => f.corrId === 5n);
    expect(head?.flags).toBe(Flags.RESP | Flags.START);
    c.write(request(5n, 0x0101, {}, "", 0));
    const error = await c.waitFor((f) => f.corrId === 5n && f.code >= 400);
    expect(error?.flags).toBe(Flags.RESP | Flags.END);
    expect(error?.meta?.reason).toBe("stream_violation");
  });

  it("answers a streamed echo with its head before any body arrives", async () => {
    const n = await scope.node();
    const c = await scope.raw(n);
    c.write(request(7n, 0x0101, { hi: 1 }, "", 0));
    const head = await c.waitFor((f) => f.corrId === 7n);
    expect(head?.code).toBe(200);
    expect(head?.meta).toEqual({ hi: 1 });
    expect(head && (head.flags & Flags.END) === 0).toBe(true);
  });

  it("turns a reply whose meta cannot fit max_frame into 500 internal", async () => {
    const big: Service = {
      appProtoId: 0xf00a,
      name: "big-meta",
      handle: (_req, res) => res.reply(200, { blob: "m".repeat(9000) }, Buffer.from("BODY")),
    };
    const n = await scope.node({ maxFrame: 8192 }, { services: [big] });
    const c = await scope.raw(n);
    c.write(request(3n, 0xf00a, {}));
    const reply = await c.waitFor((f) => f.corrId === 3n);
    expect(reply?.code).toBe(500);
    expect(reply?.flags).toBe(Flags.RESP | Flags.START | Flags.END);
    expect(reply?.meta?.reason).toBe("internal");
    expect(c.frames.filter((f) => f.corrId === 3n)).toHaveLength(1);
  });

  it("answers 500 internal when a service throws, reports it, and keeps serving", async () => {
    const seen: Array<[unknown, unknown]> = [];
    const broken: Service = {
      appProtoId: 0xf00b,
      name: "broken",
      handle: () => {
        throw new TypeError("oops");
      },
    };
    const refusing: Service = {
      appProtoId: 0xf00c,
      name: "refusing",
      handle: () => {
        throw new OapError("forbidden", "not for you");
      },
    };
    const n = await scope.node({}, { services: [broken, refusing] });
    n.log.error = ((obj: unknown, msg?: unknown) => seen.push([obj, msg])) as typeof n.log.error;
    const c = await scope.raw(n);
    c.write(request(1n, 0xf00b, {}));
    c.write(request(2n, 0xf00c, {}));
    c.write(request(3n, 0x0101, {}, "still here"));
    expect((await c.waitFor((f) => f.corrId === 1n))?.meta).toMatchObject({ reason: "internal" });
    expect((await c.waitFor((f) => f.corrId === 2n))?.meta).toMatchObject({ reason: "forbidden" });
    expect((await c.waitFor((f) => f.corrId === 3n))?.code).toBe(200);
    // One line for the failed request, one from the supervisor for the crash it caused.
    const failed = seen.filter(([, msg]) => msg === "service failed");
    expect(failed).toHaveLength(1);
    expect(failed[0]?.[0]).toMatchObject({ err: { message: "oops" } });
    expect(seen.filter(([, msg]) => msg === "service crashed").map(([obj]) => obj)).toEqual([
      expect.objectContaining({ service: "broken", reason: "TypeError: oops" }),
    ]);
  });
});

describe("dev certificates", () => {
  it("renews a bad server certificate under the same CA", async () => {
    const dir = tempDir();
    scope.defer(dir.remove);
    const overrides = {
      listen: "127.0.0.1:0",
      wsListen: "127.0.0.1:0",
      admin: "127.0.0.1:0",
      dataDir: dir.path,
    };
    const first = await startNode({ overrides, logLevel: "silent" });
    await first.close();
    // A key that does not belong to the certificate (as after a crash mid-write) must not be served.
    writeFileSync(join(dir.path, "tls", "server-key.pem"), first.tls.key.replace(/[A-Za-z]{8}/, "AAAAAAAA"));
    writeFileSync(join(dir.path, "tls", "server.pem"), "not a certificate");
    const second = await startNode({ overrides, logLevel: "silent" });
    scope.defer(() => second.close());
    expect(second.caFingerprint).toBe(first.caFingerprint);
    expect(second.tls.certFingerprint).not.toBe(first.tls.certFingerprint);
    const c = await RawOapConnection.open(second.oapUrl, first.caPem);
    c.close();
  });
});

describe("service bugs are 500s", () => {
  it("answers 500 internal when a one-frame reply's meta cannot be encoded", async () => {
    const huge: Service = {
      appProtoId: 0xf00d,
      name: "huge-meta",
      handle: (_req, res) => res.reply(200, { blob: "x".repeat(70_000) }),
    };
    const n = await scope.node({}, { services: [huge] });
    const c = await scope.raw(n);
    c.write(request(4n, 0xf00d, {}));
    const reply = await c.waitFor((f) => f.corrId === 4n);
    expect(reply?.code).toBe(500);
    expect(reply?.meta?.reason).toBe("internal");
  });
});
