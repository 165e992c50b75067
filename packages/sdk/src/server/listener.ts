import type { AddressInfo, Socket } from "node:net";
import { createServer, type Server, type TLSSocket } from "node:tls";
import type { OapError } from "@omnigate/oap";
import type { Logger } from "../client/logger.js";
import { listenOn } from "./listen.js";
import { ServerSession, type SessionHandler, type SessionLimits } from "./session.js";

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

export interface ConnectionGate {
  /** Counts the connection in, or returns the error it is refused with. */
  tryOpen(address: string): OapError | undefined;
  closed(address: string): void;
}

/**
 * How often every session is checked against its time limits and its buffered bytes are
 * summed: one timer for the whole listener, none per connection.
 */
const SWEEP_INTERVAL_MS = 50;

/** After the drain, how long closing connections get to flush before they are destroyed. */
const CLOSE_GRACE_MS = 1_000;

/**
 * The OAP/1-over-TLS listener: one ServerSession per connection, and a graceful drain. The
 * node's gateway and app backends (serve()) both run on it.
 */
export class OapListener {
  private readonly server: Server;
  private readonly sessions = new Set<ServerSession>();
  /** Every TCP connection, including those still in their TLS handshake. */
  private readonly sockets = new Set<Socket>();
  private closing = false;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(private readonly options: ListenerOptions) {
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
    this.server.on("connection", (socket: Socket) => this.onConnection(socket));
    this.server.on("tlsClientError", (err, socket) => {
      // Node reports a handshake timeout here but leaves the socket open: close it.
      socket.destroy();
      options.log.debug({ peer: socket.remoteAddress, err: err.message }, "TLS handshake failed");
    });
  }

  async listen(): Promise<AddressInfo> {
    const address = await listenOn(this.server, this.options.host, this.options.port);
    this.sweeper = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS);
    this.sweeper.unref();
    return address;
  }

  /**
   * Stops accepting, lets open streams finish within `timeoutMs` (new streams get 503
   * `shutting_down`), then closes every connection; whatever has not closed a moment
   * later (a peer that does not read, a handshake still under way) is destroyed.
   */
  async close(timeoutMs: number): Promise<void> {
    this.closing = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const drained = Promise.all([...this.sessions].map((s) => s.drain()));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), timeoutMs);
    });
    const expired = await Promise.race([drained.then(() => false), timedOut]);
    clearTimeout(timer);
    if (expired) {
      this.options.log.warn(
        { open: this.openStreams() },
        "drain timeout: closing connections with open streams",
      );
    }
    for (const session of this.sessions) session.close();
    const grace = setTimeout(() => this.destroyAll(), CLOSE_GRACE_MS);
    await closed;
    clearTimeout(grace);
    clearInterval(this.sweeper);
  }

  /** Drops every connection at once, handshaking ones included. */
  destroyAll(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  /** Connections past their TLS handshake, each with a session. */
  connectionCount(): number {
    return this.sessions.size;
  }

  openStreams(): number {
    let n = 0;
    for (const session of this.sessions) n += session.openStreams;
    return n;
  }

  /** Connection limits run here, on the TCP connection, before any TLS work is spent on it. */
  private onConnection(socket: Socket): void {
    const address = socket.remoteAddress ?? "?";
    const gate = this.options.connectionLimit;
    const refused = gate?.tryOpen(address);
    if (refused) {
      socket.destroy();
      this.options.handler.rejected?.(refused, { corrId: 0n, appProtoId: 0, tenantId: 0n });
      return;
    }
    this.sockets.add(socket);
    socket.once("close", () => {
      this.sockets.delete(socket);
      gate?.closed(address);
    });
  }

  /** Time limits of every session (first header, slow frames, idle, non-reading peers) and their buffered bytes. */
  private sweep(): void {
    const now = Date.now();
    let buffered = 0;
    for (const session of this.sessions) {
      const expired = session.checkTimeouts(now);
      if (expired) this.options.log.debug({ timeout: expired }, "connection closed by a time limit");
      buffered += session.bufferedBytes;
    }
    this.options.onSweep?.(buffered);
  }

  private accept(socket: TLSSocket): void {
    // A handshake that finished after close() began gets no session: nothing new starts while draining.
    if (this.closing) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    const session = new ServerSession(socket, this.options.handler, this.options.limits);
    this.sessions.add(session);
    socket.once("close", () => this.sessions.delete(session));
  }
}
