import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { loadTlsMaterial, type TlsMaterial } from "@omnigate/node";
import { encodeFrame, Flags } from "@omnigate/oap";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type WebSocket, WebSocketServer } from "ws";
import { tempDir } from "../../../testing/support/temp-dir.js";
import { connect, OapConnectionError } from "../src/index.js";

/** A reply frame to the client's HELLO (corr_id 1), for servers that then break the rules. */
const helloReplyFrame = (payload: Uint8Array) =>
  encodeFrame({ flags: Flags.RESP | Flags.START | Flags.END, code: 200, appProtoId: 0, corrId: 1n, payload });

/**
 * Servers that are not a well-behaved node, on 127.0.0.1 with a throwaway dev CA: the client
 * must fail the connection with an OapConnectionError that says what went wrong.
 */
describe("connect(wss://…) to a server that breaks OAP/1 over WebSocket", () => {
  const dir = tempDir("omnigate-sdk-wss-misbehaviour-");
  let tls: TlsMaterial;
  let server: Server | undefined;
  let wss: WebSocketServer | undefined;

  beforeAll(async () => {
    tls = await loadTlsMaterial({ dataDir: dir.path, cert: "", key: "" });
  });
  afterEach(async () => {
    for (const client of wss?.clients ?? []) client.terminate();
    wss?.close();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
    wss = undefined;
  });
  afterAll(() => dir.remove());

  /** Starts a WebSocket server that runs `onHello` on the client's first message (its HELLO). */
  async function start(
    options: { pickProtocol?: boolean; refuseWith?: number; tls12?: boolean },
    onHello: (ws: WebSocket) => void = () => {},
  ): Promise<string> {
    server = createServer({
      cert: tls.cert,
      key: tls.key,
      ...(options.tls12 ? { maxVersion: "TLSv1.2" } : {}),
    });
    wss = new WebSocketServer({
      server,
      perMessageDeflate: false,
      handleProtocols: (protocols) => (options.pickProtocol === false ? false : ([...protocols][0] ?? false)),
      verifyClient: (_info, done) =>
        options.refuseWith === undefined ? done(true) : done(false, options.refuseWith),
    });
    wss.on("connection", (ws) => ws.once("message", () => onHello(ws)));
    const listening = server;
    await new Promise<void>((resolve) => listening.listen(0, "127.0.0.1", resolve));
    return `wss://127.0.0.1:${(listening.address() as AddressInfo).port}/oap`;
  }

  async function failure(url: string): Promise<OapConnectionError> {
    const error = await connect(url, { ca: tls.caPem, connectTimeoutMs: 5_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OapConnectionError);
    return error as OapConnectionError;
  }

  it("refuses a server that offers no TLS 1.3, as over oap+tls", async () => {
    const error = await failure(await start({ tls12: true }));
    expect(error.message).toMatch(/protocol version|TLS/i);
  });

  it("refuses a server that does not choose the oap.1 subprotocol", async () => {
    const error = await failure(await start({ pickProtocol: false }));
    expect(error).toMatchObject({ reason: "connect_failed", retryable: false });
    expect(error.message).toMatch(/subprotocol oap\.1/);
  });

  it("reports an HTTP refusal of the upgrade (e.g. an origin the node does not allow)", async () => {
    const error = await failure(await start({ refuseWith: 403 }));
    expect(error).toMatchObject({ reason: "connect_failed", retryable: false });
    expect(error.message).toMatch(/HTTP 403/);
  });

  it("fails the connection on a text message", async () => {
    const error = await failure(await start({}, (ws) => ws.send("hello", { binary: false })));
    expect(error.message).toMatch(/invalid frame.*text message/);
  });

  it("fails the connection on two frames in one message", async () => {
    const frame = helloReplyFrame(new Uint8Array([0, 0]));
    const error = await failure(await start({}, (ws) => ws.send(Buffer.concat([frame, frame]))));
    expect(error.message).toMatch(/invalid frame.*exactly one frame/);
  });

  it("fails the connection on a frame split over two messages", async () => {
    const frame = helloReplyFrame(new Uint8Array([0, 0, 1, 2, 3]));
    const error = await failure(
      await start({}, (ws) => {
        ws.send(frame.subarray(0, 40));
        ws.send(frame.subarray(40));
      }),
    );
    expect(error.message).toMatch(/invalid frame.*split over messages/);
  });
});
