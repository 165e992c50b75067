import type { AddressInfo, Socket } from "node:net";
import { createServer, type Server, type TLSSocket } from "node:tls";
import type { Logger } from "../client/logger.js";
import { listenOn } from "./listen.js";
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
export class OapListener {
  private readonly server: Server;
  private readonly pool: SessionPool;

  constructor(private readonly options: ListenerOptions) {
    this.pool = new SessionPool(options);
    this.server = createServer(
      {
        cert: options.cert,
        key: options.key,
        minVersion: "TLSv1.3",
        ALPNProtocols: ["oap/1"],
        handshakeTimeout: options.handshakeTimeoutMs,
      },
      (socket) => this.accept(socket),
    );
    // Connection limits run here, on the TCP connection, before any TLS work is spent on it.
    this.server.on("connection", (socket: Socket) => this.pool.admit(socket));
    this.server.on("tlsClientError", (err, socket) => {
      // Node reports a handshake timeout here but leaves the socket open: close it.
      socket.destroy();
      options.log.debug({ peer: socket.remoteAddress, err: err.message }, "TLS handshake failed");
    });
  }

  async listen(): Promise<AddressInfo> {
    const address = await listenOn(this.server, this.options.host, this.options.port);
    this.pool.startSweeping();
    return address;
  }

  /**
   * Stops accepting, lets open streams finish within `timeoutMs` (new streams get 503
   * `shutting_down`), then closes every connection; whatever has not closed a moment
   * later (a peer that does not read, a handshake still under way) is destroyed.
   */
  close(timeoutMs: number): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    return this.pool.drain(timeoutMs, closed);
  }

  /** Drops every connection at once, handshaking ones included. */
  destroyAll(): void {
    this.pool.destroyAll();
  }

  /** Connections past their TLS handshake, each with a session. */
  connectionCount(): number {
    return this.pool.connectionCount();
  }

  openStreams(): number {
    return this.pool.openStreams();
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
