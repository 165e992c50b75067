import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:https";
import type { Socket } from "node:net";
import { OapError, WS_PATH, WS_SUBPROTOCOL } from "@omnigate/oap";
import { WebSocketServer } from "ws";
import type { ListenerOptions } from "./listener.js";
import { type OriginPolicy, originAllowed } from "./origin-policy.js";
import { listenerTls, PooledListener } from "./pooled-listener.js";
import { ServerSession } from "./session.js";
import { SessionPool } from "./session-pool.js";
import { WebSocketTransport } from "./ws-transport.js";

/** How often the HTTP server checks for requests (upgrades included) that outlived their timeout. */
const REQUEST_CHECK_INTERVAL_MS = 1_000;

/** As for the TLS listener (`handshakeTimeoutMs` covers the HTTP upgrade request too), and the pages allowed in. */
export interface WsListenerOptions extends ListenerOptions {
  /** Which pages may open a connection (the Origin header); clients that send none are not browsers and pass. */
  origins: OriginPolicy;
}

/**
 * The OAP/1-over-WebSocket listener (wss://host:port/oap): HTTPS for the upgrade, then the
 * same ServerSession as over TLS on a WebSocketTransport. Everything a browser can get wrong
 * before the session (path, subprotocol, origin, a plain HTTP request) is answered in HTTP and
 * never reaches a session.
 */
export class WsListener extends PooledListener {
  private readonly wss: WebSocketServer;
  private readonly https: ReturnType<typeof createServer>;

  constructor(private readonly options: WsListenerOptions) {
    const pool = new SessionPool(options);
    const server = createServer(
      {
        ...listenerTls(options),
        // An upgrade request whose headers never finish is answered 408 and closed (clientError).
        headersTimeout: options.handshakeTimeoutMs,
        requestTimeout: options.handshakeTimeoutMs,
        connectionsCheckingInterval: Math.min(REQUEST_CHECK_INTERVAL_MS, options.handshakeTimeoutMs),
      },
      (req, res) => this.plainRequest(req, res),
    );
    super(server, pool, options, options.log);
    this.https = server;
    this.wss = new WebSocketServer({
      noServer: true,
      // One frame per message: a message larger than max_frame is refused by ws with 1009.
      maxPayload: options.limits.maxFrame,
      // COMP is the protocol's compression, with its bomb guards; no second, unguarded one.
      perMessageDeflate: false,
      // Text messages are refused whatever they hold (§12.1: 400 bad_frame, close 1003), so
      // ws need not check their UTF-8 first (it would close with 1007 and no error frame).
      skipUTF8Validation: true,
      clientTracking: false,
      handleProtocols: (protocols) => (protocols.has(WS_SUBPROTOCOL) ? WS_SUBPROTOCOL : false),
    });
    server.on("clientError", (err: NodeJS.ErrnoException, socket) => {
      options.log.debug({ err: err.message }, "bad HTTP request on the WebSocket listener");
      // As Node does without a listener: the answer if the socket still takes one, then gone.
      const timedOut = err.code === "ERR_HTTP_REQUEST_TIMEOUT";
      if (socket.writable)
        socket.write(httpAnswer(timedOut ? 408 : 400, timedOut ? "request timeout" : "bad request"));
      socket.destroy();
    });
    server.on("upgrade", (req: IncomingMessage, socket: Socket, head: Buffer) =>
      this.upgrade(req, socket, head),
    );
  }

  /** Sockets still in their upgrade request are not sessions: the server's close would wait for them. */
  protected override beforeDrain(): void {
    this.https.closeIdleConnections();
  }

  private upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const refusal = this.refusal(req);
    if (refusal) {
      this.options.handler.rejected?.(refusal.error, { corrId: 0n, appProtoId: 0, tenantId: 0n });
      this.options.log.debug(
        { peer: socket.remoteAddress, why: refusal.error.message },
        "WebSocket upgrade refused",
      );
      return answerAndClose(socket, refusal.status, refusal.error.message);
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      // An upgrade that finished after close() began gets no session, as over TLS.
      if (this.pool.closing || socket.destroyed) {
        ws.terminate();
        return;
      }
      const transport = new WebSocketTransport(ws, socket, { maxFrame: this.options.limits.maxFrame });
      const session = new ServerSession(transport, this.options.handler, this.options.limits);
      this.pool.add(session, socket);
    });
  }

  /** Why an upgrade request is refused before any session exists, if it is. */
  private refusal(req: IncomingMessage): { status: number; error: OapError } | undefined {
    const path = (req.url ?? "").split("?")[0];
    if (path !== WS_PATH) {
      return { status: 404, error: new OapError("not_found", `OAP/1 is served on ${WS_PATH}, not ${path}`) };
    }
    if (this.pool.closing) {
      return { status: 503, error: new OapError("shutting_down", "the node is shutting down") };
    }
    const origin = req.headers.origin;
    if (!originAllowed(this.options.origins, origin, req.headers.host)) {
      return { status: 403, error: new OapError("forbidden", `origin ${origin} may not open a connection`) };
    }
    const offered = (req.headers["sec-websocket-protocol"] ?? "").split(",").map((p) => p.trim());
    if (!offered.includes(WS_SUBPROTOCOL)) {
      return {
        status: 400,
        error: new OapError("unsupported", `the WebSocket subprotocol must be ${WS_SUBPROTOCOL}`),
      };
    }
    return undefined;
  }

  /** A plain HTTPS request: not an upgrade. */
  private plainRequest(_req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(426, {
      "content-type": "text/plain; charset=utf-8",
      upgrade: "websocket",
      connection: "close",
    });
    res.end(
      `This is an OAP/1 WebSocket endpoint: open wss://<host>${WS_PATH} with subprotocol ${WS_SUBPROTOCOL}.\n`,
    );
  }
}

/**
 * Answers in plain HTTP and closes the connection. Once the answer is written the socket is
 * destroyed: a client that never closes its side must not keep it (no timeout applies to a
 * socket taken out of the HTTP server for an upgrade).
 */
function answerAndClose(socket: Socket, status: number, message: string): void {
  if (!socket.writable) return void socket.destroy();
  socket.once("finish", () => socket.destroy());
  socket.end(httpAnswer(status, message));
}

function httpAnswer(status: number, message: string): string {
  const reason = STATUS_TEXT[status] ?? "Bad Request";
  const body = `${message}\n`;
  return (
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
}

const STATUS_TEXT: Record<number, string> = {
  400: "Bad Request",
  403: "Forbidden",
  404: "Not Found",
  408: "Request Timeout",
  503: "Service Unavailable",
};
