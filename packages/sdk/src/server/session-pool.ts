import type { Socket } from "node:net";
import type { OapError } from "@omnigate/oap";
import type { Logger } from "../logger.js";
import type { ServerSession, SessionHandler } from "./session.js";

export interface ConnectionGate {
  /** Counts the connection in, or returns the error it is refused with. */
  tryOpen(address: string): OapError | undefined;
  closed(address: string): void;
}

export interface SessionPoolOptions {
  handler: SessionHandler;
  log: Logger;
  /** Asked on accept, before any TLS work; a refused connection is closed at once. */
  connectionLimit?: ConnectionGate | undefined;
  /** After each sweep of the sessions: the bytes they buffer in all. */
  onSweep?: ((bufferedBytes: number) => void) | undefined;
}

/**
 * How often every session is checked against its time limits and its buffered bytes are
 * summed: one timer for the whole listener, none per connection.
 */
const SWEEP_INTERVAL_MS = 50;

/** After the drain, how long closing connections get to flush before they are destroyed. */
const CLOSE_GRACE_MS = 1_000;

/**
 * The connections of one listener, whatever their transport: the connection gate on accept,
 * the periodic sweep of time limits and buffered bytes, and the graceful drain.
 */
export class SessionPool {
  private readonly sessions = new Set<ServerSession>();
  /** Every TCP connection, including those still in their TLS or WebSocket handshake. */
  private readonly sockets = new Set<Socket>();
  private sweeper: NodeJS.Timeout | undefined;
  /** Set once draining began: connections that finish their handshake after it get no session. */
  closing = false;

  constructor(private readonly options: SessionPoolOptions) {}

  /** Runs the connection gate on a new TCP connection; false when it was refused (and destroyed). */
  admit(socket: Socket): boolean {
    const address = socket.remoteAddress ?? "?";
    const gate = this.options.connectionLimit;
    const refused = gate?.tryOpen(address);
    if (refused) {
      socket.destroy();
      this.options.handler.rejected?.(refused, { corrId: 0n, appProtoId: 0, tenantId: 0n });
      return false;
    }
    this.sockets.add(socket);
    socket.once("close", () => {
      this.sockets.delete(socket);
      gate?.closed(address);
    });
    return true;
  }

  /** Tracks a session until its connection closes. */
  add(session: ServerSession, socket: Socket): void {
    this.sessions.add(session);
    socket.once("close", () => this.sessions.delete(session));
  }

  startSweeping(): void {
    this.sweeper = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS);
    this.sweeper.unref();
  }

  /**
   * Lets open streams finish within `timeoutMs` (new streams get 503 `shutting_down`), then
   * closes every connection; whatever has not closed a moment later is destroyed. Resolves
   * when `serverClosed` does (the server has let go of its last connection).
   */
  async drain(timeoutMs: number, serverClosed: Promise<void>): Promise<void> {
    this.closing = true;
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
    for (const session of this.sessions) session.close("going_away");
    const grace = setTimeout(() => this.destroyAll(), CLOSE_GRACE_MS);
    await serverClosed;
    clearTimeout(grace);
    clearInterval(this.sweeper);
  }

  /** Drops every connection at once, handshaking ones included. */
  destroyAll(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  /** Connections past their handshake, each with a session. */
  connectionCount(): number {
    return this.sessions.size;
  }

  openStreams(): number {
    let n = 0;
    for (const session of this.sessions) n += session.openStreams;
    return n;
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
}
