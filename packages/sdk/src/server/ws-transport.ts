import type { Socket } from "node:net";
import {
  type ByteSink,
  checkFrameMessage,
  FrameHeaderError,
  type HeaderLimits,
} from "@omnigate/oap/internal";
import type { WebSocket } from "ws";
import { WebSocketMessageSink } from "../ws-message-sink.js";
import type { CloseKind, SessionTransport, TransportReceiver } from "./transport.js";
import { WebSocketMessageTracker } from "./ws-message-tracker.js";

/** WebSocket close codes the node uses (RFC 6455 §7.4.1; specs/oap-1.md §12.1). */
export const WS_CLOSE = {
  normal: 1000,
  going_away: 1001,
  protocol_error: 1002,
  unsupported_data: 1003,
  message_too_big: 1009,
} as const;

const CLOSE_CODES: Record<CloseKind, number> = {
  normal: WS_CLOSE.normal,
  going_away: WS_CLOSE.going_away,
  protocol_error: WS_CLOSE.protocol_error,
};

/**
 * OAP/1 over WebSocket (specs/oap-1.md §12.1): each binary message is exactly one frame.
 * Received messages are checked for that before the session sees them; outgoing frames leave
 * one message each, written in one burst per FrameWriter write (WebSocketMessageSink).
 */
export class WebSocketTransport implements SessionTransport {
  readonly kind = "wss";
  readonly peer: string;
  readonly output: ByteSink;
  private readonly tracker = new WebSocketMessageTracker();
  /** A text message broke the rule: the close says "unsupported data", not "protocol error". */
  private textReceived = false;

  constructor(
    private readonly ws: WebSocket,
    /** The TLS socket under the WebSocket (the upgrade request's socket). */
    private readonly socket: Socket,
    private readonly limits: HeaderLimits,
  ) {
    this.peer = `${socket.remoteAddress ?? "?"}:${socket.remotePort ?? 0}`;
    this.output = new WebSocketMessageSink(ws, socket);
  }

  /** Bytes of a message still arriving, which ws holds until it completes. */
  get pendingBytes(): number {
    return this.tracker.pendingBytes;
  }

  get writableLength(): number {
    return this.socket.writableLength;
  }

  get bytesWritten(): number {
    return this.socket.bytesWritten;
  }

  attach(receiver: TransportReceiver): void {
    const { ws, socket, tracker } = this;
    // ws parses a socket read and emits its messages synchronously, before the listener below
    // runs: the session sees every frame of a read, then one readDone, so the replies to a
    // read leave in one write, as over TLS. Should a message come outside a read (ws reads
    // what is left when the socket closes), a microtask closes its batch instead.
    let batchOpen = false;
    const readDone = () => {
      batchOpen = false;
      receiver.readDone();
    };
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      if (!batchOpen) {
        batchOpen = true;
        queueMicrotask(() => {
          if (batchOpen) readDone();
        });
      }
      if (!isBinary) {
        this.textReceived = true;
        return receiver.violation(
          new FrameHeaderError("bad_frame", "a text message; OAP/1 frames travel in binary messages"),
        );
      }
      try {
        checkFrameMessage(data, this.limits);
      } catch (err) {
        return receiver.violation(err as FrameHeaderError);
      }
      receiver.data(data);
    });
    // Follows the frames of every read too: what is left of a message still arriving (a
    // slow-loris sender, or a large message) runs the slow-frame clock and counts as buffered.
    socket.on("data", (chunk: Buffer) => {
      tracker.push(chunk);
      readDone();
    });
    // ws reports framing errors (bad opcode, oversized message, invalid close) here and closes
    // the connection itself with the matching code.
    ws.on("error", () => {});
    ws.on("close", () => receiver.closed());
  }

  pause(): void {
    this.ws.pause();
  }

  resume(): void {
    if (!this.socket.destroyed) this.ws.resume();
  }

  end(why: CloseKind): void {
    // The close handshake needs the peer's close frame read, even after a violation paused us;
    // the session ignores whatever else still arrives.
    this.ws.resume();
    const code = why === "protocol_error" && this.textReceived ? WS_CLOSE.unsupported_data : CLOSE_CODES[why];
    this.ws.close(code);
  }

  destroy(): void {
    this.ws.terminate();
  }
}
