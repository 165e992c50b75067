import { createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { resolveNodeUrl } from "../src/client/url.js";
import { connect, OapConnectionError } from "../src/index.js";

/** A TCP server on 127.0.0.1 that does `onSocket` with every connection; not an OAP node. */
async function tcpServer(onSocket: (socket: Socket) => void): Promise<{ url: string; server: Server }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    onSocket(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  servers.push(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { url: `oap+tls://127.0.0.1:${address.port}`, server };
}

const servers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((stop) => stop()));
});

describe("connect failures", () => {
  it("gives up after connectTimeoutMs when the peer never completes the handshake", async () => {
    const { url } = await tcpServer(() => {
      // Accept and stay silent.
    });
    const error = await connect(url, { insecure: true, connectTimeoutMs: 200 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OapConnectionError);
    expect(error).toMatchObject({ reason: "connect_timeout", retryable: true });
  });

  it("reports a peer that closes during the handshake", async () => {
    const { url } = await tcpServer((socket) => socket.destroy());
    const error = await connect(url, { insecure: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OapConnectionError);
    expect(error).toMatchObject({ reason: "connect_failed" });
  });

  it("refuses a malformed fingerprint and conflicting trust options before connecting", async () => {
    await expect(connect("oap+tls://127.0.0.1:1", { fingerprint: "12:34" })).rejects.toThrow(/SHA-256/);
    await expect(connect("oap+tls://127.0.0.1:1", { insecure: true, ca: "x" })).rejects.toThrow(/insecure/);
  });

  it("without a URL: RON_NODE_URL, else the local default oap+tls://127.0.0.1:9443", () => {
    // Dialling the default is testing/dx/local-node.test.ts's job (it needs port 9443 free).
    expect(resolveNodeUrl(undefined, {})).toBe("oap+tls://127.0.0.1:9443");
    expect(resolveNodeUrl(undefined, { RON_NODE_URL: "oap+tls://n.example" })).toBe("oap+tls://n.example");
    expect(resolveNodeUrl("wss://given:1/oap", { RON_NODE_URL: "oap+tls://n.example" })).toBe(
      "wss://given:1/oap",
    );
  });
});
