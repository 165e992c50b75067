import type { ClientRequest, IncomingMessage } from "node:http";
import { type ConnectionOptions, type TLSSocket, connect as tlsConnect } from "node:tls";
import { DEFAULT_MAX_FRAME, WS_SUBPROTOCOL } from "@omnigate/oap/internal";
import WebSocket from "ws";
import { WebSocketMessageSink } from "../ws-message-sink.js";
import { closedWhileOpening, connectError } from "./connect-error.js";
import { OapConnectionError } from "./errors.js";
import type { ClientTransport, TransportReceiver } from "./transport.js";
import { type TrustSettings, verifyPinnedPeer } from "./trust.js";
import { describeAddress, type NodeAddress, webSocketUrl } from "./url.js";
import { receiveWsMessage } from "./ws-message.js";

/**
 * OAP/1 over a secure WebSocket from Node, with the `ws` package: each binary message carries
 * exactly one frame both ways (specs/oap-1.md §12.1). Received messages are checked for that
 * before the Connection sees them; outgoing frames go through a masked WebSocketMessageSink.
 */
export class NodeWebSocketTransport implements ClientTransport {
  readonly sink: WebSocketMessageSink;
  private receiver: TransportReceiver | undefined;
  /** What arrived before attach(): ws may emit messages in the same tick as `open`. */
  private early: Array<(receiver: TransportReceiver) => void> = [];
  /** Set once the connection was given up: nothing more is delivered. */
  private stopped = false;

  constructor(
    private readonly ws: WebSocket,
    socket: TLSSocket,
  ) {
    // A client masks every message it sends (RFC 6455 §5.3).
    this.sink = new WebSocketMessageSink(ws, socket, true);
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      // The per-message path: no closure unless the message came before attach().
      const receiver = this.receiver;
      const binary = isBinary ? data : undefined;
      if (!receiver) this.early.push((r) => receiveWsMessage(r, binary));
      else if (!this.stopped) receiveWsMessage(receiver, binary);
    });
    ws.on("error", (error: Error) =>
      this.deliver((r) => r.ending(`connection to the node failed: ${error.message}`, error)),
    );
    ws.on("close", (code: number, reason: Buffer) =>
      this.deliver((r) => {
        r.ending(
          `the node closed the connection (WebSocket close ${code}${reason.length > 0 ? `: ${reason}` : ""})`,
        );
        r.closed();
      }),
    );
  }

  get destroyed(): boolean {
    return this.ws.readyState !== WebSocket.OPEN;
  }

  attach(receiver: TransportReceiver): void {
    this.receiver = receiver;
    const early = this.early;
    this.early = [];
    for (const event of early) event(receiver);
  }

  pause(): void {
    this.ws.pause();
  }

  resume(): void {
    this.ws.resume();
  }

  end(): void {
    this.ws.close(1000);
  }

  destroy(): void {
    // Nothing more is read; the close terminate() emits still reaches the receiver (see deliver).
    this.stopped = true;
    this.ws.terminate();
  }

  private deliver(event: (receiver: TransportReceiver) => void): void {
    const receiver = this.receiver;
    if (!receiver) this.early.push(event);
    else event(this.stopped ? closeOnly(receiver) : receiver);
  }
}

/** After destroy(): only the close goes through, so a dropped connection reads nothing more. */
function closeOnly(receiver: TransportReceiver): TransportReceiver {
  return { data() {}, invalid() {}, ending: receiver.ending, closed: receiver.closed };
}

/**
 * Opens `wss://host:port/oap` with subprotocol oap.1 and permessage-deflate off. The TLS
 * socket is made here (ws's createConnection) with the same trust settings as oap+tls, so the
 * pin is checked on it right after the handshake, and the transport can cork it.
 */
export function openNodeWebSocket(
  address: NodeAddress,
  trust: TrustSettings,
  signal: AbortSignal,
): Promise<NodeWebSocketTransport> {
  const target = describeAddress(address);
  let socket: TLSSocket | undefined;
  const ws = new WebSocket(webSocketUrl(address), [WS_SUBPROTOCOL], {
    perMessageDeflate: false,
    // The node's max_frame is at most this (checked in its HELLO reply); ws refuses larger messages.
    maxPayload: DEFAULT_MAX_FRAME,
    createConnection: (options: unknown) => {
      // TLS 1.3 only, as over oap+tls (specs/oap-1.md §12).
      const tlsSocket = tlsConnect({
        ...(options as ConnectionOptions),
        ...trust.tls,
        path: undefined,
        minVersion: "TLSv1.3",
      });
      const pin = trust.pin;
      if (pin !== undefined) {
        tlsSocket.once("secureConnect", () => {
          const pinFailure = verifyPinnedPeer(tlsSocket, pin);
          if (pinFailure) tlsSocket.destroy(pinFailure);
        });
      }
      socket = tlsSocket;
      return tlsSocket;
    },
  });
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = () => {
      settled = true;
      signal.removeEventListener("abort", onAbort);
      ws.off("unexpected-response", onUnexpectedResponse);
      ws.off("error", onError);
      ws.off("close", onClose);
      ws.off("open", onOpen);
    };
    const fail = (error: OapConnectionError) => {
      if (settled) return;
      settle();
      // Late errors from the torn-down WebSocket have nobody left to tell.
      ws.on("error", () => {});
      ws.terminate();
      reject(error);
    };
    const onAbort = () => fail(signal.reason as OapConnectionError);
    const onUnexpectedResponse = (_request: ClientRequest, response: IncomingMessage) => {
      const status = response.statusCode ?? 0;
      response.resume();
      fail(
        new OapConnectionError(
          `${target} answered the WebSocket upgrade on ${webSocketUrl(address)} with HTTP ${status}; is its ws listener there, and is this origin allowed?`,
          { reason: "connect_failed", retryable: status === 429 || status >= 500 },
        ),
      );
    };
    const onError = (error: Error) => fail(openError(error, target));
    const onClose = () => fail(closedWhileOpening(target, "the WebSocket upgrade"));
    const onOpen = () => {
      if (ws.protocol !== WS_SUBPROTOCOL || !socket) {
        fail(subprotocolRefused(target, ws.protocol));
        return;
      }
      settle();
      resolve(new NodeWebSocketTransport(ws, socket));
    };
    ws.on("unexpected-response", onUnexpectedResponse);
    ws.on("error", onError);
    ws.on("close", onClose);
    ws.on("open", onOpen);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

function openError(error: Error, target: string): OapConnectionError {
  // ws refuses a reply that does not choose oap.1 with an error whose message says so.
  if (/subprotocol/i.test(error.message)) return subprotocolRefused(target, error.message);
  return connectError(error, target);
}

function subprotocolRefused(target: string, detail: string): OapConnectionError {
  return new OapConnectionError(
    `${target} did not accept the WebSocket subprotocol ${WS_SUBPROTOCOL} (${detail || "none chosen"}); is this an Omnigate node?`,
    { reason: "connect_failed", retryable: false },
  );
}
