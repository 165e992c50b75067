import { WS_SUBPROTOCOL } from "@omnigate/oap/internal";
import { BrowserWebSocketSink } from "./browser-ws-sink.js";
import { OapConnectionError } from "./errors.js";
import {
  type PlatformWebSocket,
  type PlatformWebSocketConstructor,
  WEBSOCKET_OPEN,
  type WebSocketEventLike,
} from "./platform-websocket.js";
import type { ClientTransport, TransportReceiver } from "./transport.js";
import { receiveWsMessage } from "./ws-message.js";

/**
 * OAP/1 over the platform WebSocket (a browser's): each binary message carries exactly one
 * frame both ways (specs/oap-1.md §12.1).
 *
 * A WebSocket cannot stop reading, so pause() holds received messages here, in order, until
 * resume(): the Connection's unread-body rules work as over TLS, but memory is bounded by
 * the node's flow control (SUBSCRIBE credit, one reply per request), not by TCP.
 */
export class BrowserWebSocketTransport implements ClientTransport {
  readonly sink: BrowserWebSocketSink;
  private receiver: TransportReceiver | undefined;
  private paused = false;
  /** Messages held while paused or before attach(). */
  private held: unknown[] = [];
  /** Set once the connection was given up: messages are dropped, only the close goes through. */
  private stopped = false;

  constructor(private readonly ws: PlatformWebSocket) {
    this.sink = new BrowserWebSocketSink(ws);
    ws.addEventListener("message", (event) => this.onMessage(event.data));
    ws.addEventListener("error", () => this.receiver?.ending("the WebSocket to the node failed"));
    ws.addEventListener("close", (event) => this.onClose(event));
  }

  get destroyed(): boolean {
    return this.ws.readyState !== WEBSOCKET_OPEN;
  }

  attach(receiver: TransportReceiver): void {
    this.receiver = receiver;
    this.release();
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.release();
  }

  end(): void {
    this.ws.close(1000);
  }

  destroy(): void {
    this.stopped = true;
    this.held = [];
    // A page cannot drop a WebSocket at once; close() is the nearest (1000: the only code it may send).
    this.ws.close(1000);
  }

  private onMessage(data: unknown): void {
    if (this.stopped) return;
    if (this.paused || !this.receiver || this.held.length > 0) this.held.push(data);
    else deliver(this.receiver, data);
  }

  private release(): void {
    const receiver = this.receiver;
    while (receiver && !this.paused && !this.stopped && this.held.length > 0) {
      deliver(receiver, this.held.shift());
    }
  }

  private onClose(event: WebSocketEventLike): void {
    this.sink.closed();
    const receiver = this.receiver;
    if (!receiver) return;
    const reason = event.reason ? `: ${event.reason}` : "";
    receiver.ending(`the node closed the connection (WebSocket close ${event.code ?? 1006}${reason})`);
    receiver.closed();
  }
}

function deliver(receiver: TransportReceiver, data: unknown): void {
  // binaryType "arraybuffer": every binary message is an ArrayBuffer (not tested with
  // instanceof, which fails for one made in another realm).
  receiveWsMessage(receiver, typeof data === "string" ? undefined : new Uint8Array(data as ArrayBuffer));
}

/**
 * Opens `url` (wss://host:port/oap) with the platform WebSocket and subprotocol oap.1. The
 * page's own TLS trust applies; a browser does not say why a WebSocket failed to open (refused,
 * an untrusted certificate, an origin the node does not allow), so neither can this.
 */
export function openBrowserWebSocket(
  url: string,
  WebSocketImpl: PlatformWebSocketConstructor,
  signal: AbortSignal,
): Promise<BrowserWebSocketTransport> {
  return new Promise((resolve, reject) => {
    let ws: PlatformWebSocket;
    try {
      ws = new WebSocketImpl(url, [WS_SUBPROTOCOL]);
    } catch (error) {
      reject(
        new OapConnectionError(`cannot open a WebSocket to ${url}: ${String(error)}`, {
          reason: "connect_failed",
          retryable: false,
          cause: error,
        }),
      );
      return;
    }
    ws.binaryType = "arraybuffer";
    const settle = () => {
      signal.removeEventListener("abort", onAbort);
      ws.removeEventListener("open", onOpen);
      ws.removeEventListener("error", onFailure);
      ws.removeEventListener("close", onFailure);
    };
    const fail = (error: OapConnectionError) => {
      settle();
      ws.close();
      reject(error);
    };
    const onAbort = () => fail(signal.reason as OapConnectionError);
    const onFailure = (event: WebSocketEventLike) =>
      fail(
        new OapConnectionError(
          `cannot open a WebSocket to ${url} (close ${event.code ?? 1006}); the node may be down, its certificate not trusted by this browser, or this page's origin not in its ws.allowed_origins`,
          { reason: "connect_failed" },
        ),
      );
    const onOpen = () => {
      if (ws.protocol !== WS_SUBPROTOCOL) {
        fail(
          new OapConnectionError(
            `${url} did not accept the WebSocket subprotocol ${WS_SUBPROTOCOL} (${ws.protocol || "none chosen"}); is this an Omnigate node?`,
            { reason: "connect_failed", retryable: false },
          ),
        );
        return;
      }
      settle();
      resolve(new BrowserWebSocketTransport(ws));
    };
    ws.addEventListener("open", onOpen);
    ws.addEventListener("error", onFailure);
    ws.addEventListener("close", onFailure);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
