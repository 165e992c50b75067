import type { AddressInfo, Socket } from "node:net";
import type { Server, TlsOptions } from "node:tls";
import type { Logger } from "../logger.js";
import { listenOn } from "./listen.js";
import type { SessionPool } from "./session-pool.js";

/** The TLS settings every listener starts from: TLS 1.3 only, and a handshake that must finish in time. */
export function listenerTls(options: { cert: string; key: string; handshakeTimeoutMs: number }): TlsOptions {
  return {
    cert: options.cert,
    key: options.key,
    minVersion: "TLSv1.3",
    handshakeTimeout: options.handshakeTimeoutMs,
  };
}

/**
 * What every OAP/1 listener shares, whatever its transport: a TLS server that accepts
 * connections and the pool of their sessions (limits, sweep, drain).
 */
export abstract class PooledListener {
  protected constructor(
    protected readonly server: Server,
    protected readonly pool: SessionPool,
    private readonly address: { host: string; port: number },
    log: Logger,
  ) {
    // Connection limits run here, on the TCP connection, before any TLS work is spent on it.
    server.on("connection", (socket: Socket) => pool.admit(socket));
    server.on("tlsClientError", (err, socket) => {
      // Node reports a handshake timeout here but leaves the socket open: close it.
      socket.destroy();
      log.debug({ peer: socket.remoteAddress, err: err.message }, "TLS handshake failed");
    });
  }

  async listen(): Promise<AddressInfo> {
    const bound = await listenOn(this.server, this.address.host, this.address.port);
    this.pool.startSweeping();
    return bound;
  }

  /**
   * Stops accepting, lets open streams finish within `timeoutMs` (new streams get 503
   * `shutting_down`), then closes every connection; whatever has not closed a moment
   * later (a peer that does not read, a handshake still under way) is destroyed.
   */
  close(timeoutMs: number): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.beforeDrain();
    return this.pool.drain(timeoutMs, closed);
  }

  /** Drops every connection at once, handshaking ones included. */
  destroyAll(): void {
    this.pool.destroyAll();
  }

  /** Connections past their handshake, each with a session. */
  connectionCount(): number {
    return this.pool.connectionCount();
  }

  openStreams(): number {
    return this.pool.openStreams();
  }

  /** Runs once close() has stopped the server accepting, before the drain. */
  protected beforeDrain(): void {}
}
