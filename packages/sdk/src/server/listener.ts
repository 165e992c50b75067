import { createServer, type TLSSocket } from "node:tls";
import type { Logger } from "../logger.js";
import { listenerTls, PooledListener } from "./pooled-listener.js";
import { ServerSession, type SessionHandler, type SessionLimits } from "./session.js";
import { type ConnectionGate, SessionPool } from "./session-pool.js";
import { SocketTransport } from "./transport.js";

export interface ListenerOptions {
  host: string;
  port: number;
  cert: string;
  key: string;
  handshakeTimeoutMs: number;
  limits: SessionLimits;
  handler: SessionHandler;
  log: Logger;
  /** Asked on accept, before the TLS handshake; a refused connection is closed at once. */
  connectionLimit?: ConnectionGate;
  /** After each sweep of the sessions: the bytes they buffer in all. */
  onSweep?: (bufferedBytes: number) => void;
}

/**
 * The OAP/1-over-TLS listener: one ServerSession per connection, and a graceful drain. The
 * node's gateway and app backends (serve()) both run on it.
 */
export class OapListener extends PooledListener {
  constructor(private readonly options: ListenerOptions) {
    const pool = new SessionPool(options);
    const server = createServer({ ...listenerTls(options), ALPNProtocols: ["oap/1"] }, (socket) =>
      this.accept(socket),
    );
    super(server, pool, options, options.log);
  }

  private accept(socket: TLSSocket): void {
    // A handshake that finished after close() began gets no session: nothing new starts while draining.
    if (this.pool.closing) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    const session = new ServerSession(new SocketTransport(socket), this.options.handler, this.options.limits);
    this.pool.add(session, socket);
  }
}
