import { createServer, type TLSSocket } from "node:tls";
import type { Meta } from "@omnigate/oap";
import { ServerSession, type SessionHandler, SocketTransport } from "../../src/internal.js";

/** A HELLO reply meta as a node sends it; `overrides` replace (or break) single keys. */
export function helloMeta(overrides: Meta = {}): Meta {
  return {
    versions: [1],
    max_frame: 1_048_576,
    max_inflight: 16,
    flags_supported: 0xbf,
    transports: ["tls"],
    node_id: "sdk-session-test",
    rev_seq: 0,
    services: [],
    limits: { max_cap_len: 4096, max_meta_len: 65535, default_deadline_ms: 30_000 },
    ...overrides,
  };
}

export interface SessionServer {
  /** oap+tls://127.0.0.1:port */
  url: string;
  /** Connections accepted so far. */
  readonly connections: number;
  /** The accepted sockets, in order. */
  readonly sockets: TLSSocket[];
  stop(): Promise<void>;
}

/**
 * A TLS server on 127.0.0.1 that runs the SDK's own ServerSession on every connection, with
 * the handler `handlerFor(index, socket)` returns (index counts connections from 0). Lets a
 * test play a node that answers HELLO or requests in a way a healthy node would not.
 */
export async function startSessionServer(
  tls: { cert: string; key: string },
  handlerFor: (index: number, socket: TLSSocket) => SessionHandler,
): Promise<SessionServer> {
  const sockets: TLSSocket[] = [];
  const server = createServer(
    { cert: tls.cert, key: tls.key, ALPNProtocols: ["oap/1"], minVersion: "TLSv1.3" },
    (socket) => {
      const index = sockets.length;
      sockets.push(socket);
      socket.on("error", () => {});
      new ServerSession(new SocketTransport(socket), handlerFor(index, socket));
    },
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return {
    url: `oap+tls://127.0.0.1:${address.port}`,
    get connections() {
      return sockets.length;
    },
    sockets,
    stop() {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
