import type { AddressInfo } from "node:net";
import { createServer, type Server, type TLSSocket } from "node:tls";
import { ServerSession, type SessionHandler, type SessionLimits } from "@omnigate/sdk";
import type { Logger } from "../log.js";

export interface ListenerOptions {
  host: string;
  port: number;
  cert: string;
  key: string;
  handshakeTimeoutMs: number;
  limits: SessionLimits;
  handler: SessionHandler;
  log: Logger;
}

/** The OAP/1-over-TLS listener: one ServerSession per connection, and a graceful drain. */
export class GatewayListener {
  private readonly server: Server;
  private readonly sessions = new Set<ServerSession>();

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
    this.server.on("tlsClientError", (err, socket) => {
      options.log.debug({ peer: socket.remoteAddress, err: err.message }, "TLS handshake failed");
    });
  }

  get connections(): number {
    return this.sessions.size;
  }

  listen(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off("error", reject);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  /**
   * Stops accepting, lets open streams finish within `timeoutMs` (new streams get 503
   * `shutting_down`), then closes every connection.
   */
  async close(timeoutMs: number): Promise<void> {
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
    const graceTimer = setTimeout(() => this.destroyAll(), 1_000);
    await closed;
    clearTimeout(graceTimer);
  }

  /** Drops every connection at once (tests use it to exercise client reconnects). */
  destroyAll(): void {
    for (const session of this.sessions) session.destroy();
  }

  openStreams(): number {
    let n = 0;
    for (const session of this.sessions) n += session.openStreams;
    return n;
  }

  private accept(socket: TLSSocket): void {
    socket.setNoDelay(true);
    const session = new ServerSession(socket, this.options.handler, this.options.limits);
    this.sessions.add(session);
    socket.once("close", () => this.sessions.delete(session));
  }
}
