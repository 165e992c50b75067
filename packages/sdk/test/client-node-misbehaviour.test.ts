import type { TLSSocket } from "node:tls";
import { encodeFrame, encodeStartPayload, Flags, type Meta, OapError } from "@omnigate/oap";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  type ConnectOptions,
  connect,
  type IncomingRequest,
  OapClientError,
  OapConnectionError,
  OapProtocolError,
  OapRequestError,
  type ResponseWriter,
  type SessionHandler,
} from "../src/internal.js";
import { eventually, startTestNode, type TestNode } from "./support/node.js";
import { helloMeta, type SessionServer, startSessionServer } from "./support/session-server.js";

/** Private-range app the session servers below answer. */
const APP = 0xf00d;

interface Behaviour {
  /** Answers the HELLO (default: 200 with helloMeta()). */
  hello?: (res: ResponseWriter) => void;
  /** Answers a request on APP (default: 200, empty). */
  request?: (req: IncomingRequest, res: ResponseWriter) => void | Promise<void>;
}

function handler(behaviour: Behaviour): SessionHandler {
  return {
    async dispatch(req, res) {
      if (req.appProtoId === 0) {
        (behaviour.hello ?? ((r) => r.reply(200, helloMeta())))(res);
        return;
      }
      for await (const _ of req.body) {
        // Requests carry meta only.
      }
      await (behaviour.request ?? ((_req, r) => r.reply(200, {})))(req, res);
    },
  };
}

/** Waits until the stream is torn down (the client closed), answering nothing. */
function hang(req: IncomingRequest): Promise<void> {
  return new Promise((resolve) => req.signal.addEventListener("abort", () => resolve(), { once: true }));
}

let t: TestNode;
const servers: SessionServer[] = [];
const clients: Array<{ close(): Promise<void> }> = [];

beforeAll(async () => {
  // Only for its TLS material: the session servers present the node's certificate.
  t = await startTestNode();
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});
afterAll(async () => {
  await t?.stop();
});

async function server(
  handlerFor: (index: number, socket: TLSSocket) => SessionHandler,
): Promise<SessionServer> {
  const s = await startSessionServer(t.node.tls, handlerFor);
  servers.push(s);
  return s;
}

async function client(url: string, options: ConnectOptions = {}) {
  const c = await connect(url, { ca: t.node.caPem, ...options });
  clients.push(c);
  return c;
}

describe("a node that refuses the HELLO", () => {
  it("makes connect() reject with OapConnectionError carrying the node's reason, not OapRequestError", async () => {
    const s = await server(() =>
      handler({
        hello: (res) =>
          res.fail(new OapError("not_ready", "the node is still starting", { retryAfterMs: 75 })),
      }),
    );
    const error = await connect(s.url, { ca: t.node.caPem }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OapConnectionError);
    expect(error).not.toBeInstanceOf(OapRequestError);
    expect(error).toMatchObject({ code: 503, reason: "not_ready", retryable: true, retryAfterMs: 75 });
    expect((error as Error).message).toContain("the node is still starting");
  });

  it("is not retryable when the node's code is not 429 or 503", async () => {
    const s = await server(() =>
      handler({ hello: (res) => res.fail(new OapError("forbidden", "this client may not connect")) }),
    );
    const error = await connect(s.url, { ca: t.node.caPem }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OapConnectionError);
    expect(error).toMatchObject({ code: 403, reason: "forbidden", retryable: false });
  });

  it("fails a request whose reconnect is refused with OapConnectionError, so it cannot look refused itself", async () => {
    const s = await server((index) =>
      handler(
        index === 0
          ? {}
          : { hello: (res) => res.fail(new OapError("not_ready", "restarting", { retryAfterMs: 10 })) },
      ),
    );
    const c = await client(s.url);
    let disconnected = false;
    c.on("disconnect", () => {
      disconnected = true;
    });
    s.sockets[0]?.destroy();
    await eventually(() => disconnected);

    const error = await c.request(APP).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OapConnectionError);
    expect(error).not.toBeInstanceOf(OapRequestError);
    expect(error).toMatchObject({ reason: "not_ready", retryable: true });
  });
});

describe("HELLO values are checked", () => {
  const bad: Array<[string, Meta]> = [
    ["max_frame below 4096", { max_frame: 4095 }],
    ["max_frame above 1 MiB", { max_frame: 1_048_577 }],
    ["max_frame not an integer", { max_frame: 8192.5 }],
    ["max_frame not a number", { max_frame: "1048576" }],
    ["max_inflight 0", { max_inflight: 0 }],
    ["max_inflight negative", { max_inflight: -4 }],
    ["max_inflight not an integer", { max_inflight: 1.5 }],
  ];
  it.each(bad)("refuses a HELLO with %s as bad_hello (not retryable)", async (_name, overrides) => {
    const s = await server(() => handler({ hello: (res) => res.reply(200, helloMeta(overrides)) }));
    const error = await connect(s.url, { ca: t.node.caPem }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OapConnectionError);
    expect(error).toMatchObject({ reason: "bad_hello", retryable: false });
  });

  it("accepts the smallest legal values and honours them", async () => {
    const s = await server(() =>
      handler({
        hello: (res) => res.reply(200, helloMeta({ max_frame: 4096, max_inflight: 1 })),
        request: async (req, res) => res.reply(200, { got: req.meta.n }),
      }),
    );
    const c = await client(s.url);
    expect(c.hello).toMatchObject({ max_frame: 4096, max_inflight: 1 });
    const replies = await Promise.all([1, 2, 3].map((n) => c.request(APP, { meta: { n } })));
    expect(replies.map((r) => r.meta.got)).toEqual([1, 2, 3]);
  });
});

describe("a draining node (503 shutting_down)", () => {
  /** Connection 0 answers every request with shutting_down; later connections answer 200. */
  const drainingFirst = (index: number) =>
    handler({
      request: (_req, res) => {
        if (index === 0) {
          res.fail(
            new OapError("shutting_down", "draining; retry on another connection", { retryAfterMs: 1 }),
          );
        } else {
          res.reply(200, { connection: index });
        }
      },
    });

  it("retries an idempotent request on a new connection", async () => {
    const s = await server(drainingFirst);
    const c = await client(s.url);
    const res = await c.request(APP, { idempotencyKey: "drain-1" });
    expect(res.meta.connection).toBe(1);
    expect(s.connections).toBe(2);
  });

  it("returns the 503 to a call without a key, and sends the next call on a new connection", async () => {
    const s = await server(drainingFirst);
    const c = await client(s.url);
    const error = await c.request(APP).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OapRequestError);
    expect(error).toMatchObject({ code: 503, reason: "shutting_down" });
    const res = await c.request(APP);
    expect(res.meta.connection).toBe(1);
    expect(s.connections).toBe(2);
  });
});

describe("protocol violations by the node", () => {
  /** Writes `frames(corrId)` straight onto the socket, bypassing the session, then never answers. */
  const violating = (frames: (corrId: bigint) => Buffer[]) => (_index: number, socket: TLSSocket) =>
    handler({
      request: async (req) => {
        for (const frame of frames(req.corrId)) socket.write(frame);
        await hang(req);
      },
    });
  const resp = (corrId: bigint, flags: number, payload: Uint8Array) =>
    encodeFrame({ flags: Flags.RESP | flags, code: 200, appProtoId: APP, corrId, payload });

  const cases: Array<[string, (corrId: bigint) => Buffer[]]> = [
    ["a continuation before START", (id) => [resp(id, Flags.END, Buffer.from("x"))]],
    [
      "a START whose meta is not JSON",
      (id) => [resp(id, Flags.START | Flags.END, Buffer.from([0, 2, 0x7b, 0x7b]))],
    ],
    [
      "a second START",
      (id) => [
        resp(id, Flags.START, encodeStartPayload({})),
        resp(id, Flags.START | Flags.END, encodeStartPayload({})),
      ],
    ],
  ];

  it.each(cases)("fails the call on %s with OapProtocolError 502 protocol_error", async (_name, frames) => {
    const s = await server(violating(frames));
    const c = await client(s.url);
    const error = await c.request(APP).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OapProtocolError);
    expect(error).toBeInstanceOf(OapClientError);
    expect(error).not.toBeInstanceOf(OapRequestError);
    expect(error).toMatchObject({ code: 502, reason: "protocol_error", retryable: false });
    expect((error as OapClientError).corrId).toBeTypeOf("bigint");
  });
});
