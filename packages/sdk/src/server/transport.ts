import type { Socket } from "node:net";
import type { ByteSink, FrameHeaderError, StreamSink } from "@omnigate/oap/internal";

/** Which transport carried a connection: a metrics label and HELLO's `transports` entry. */
export type TransportKind = "tls" | "wss";

/**
 * Why a session closes its connection. Over TLS every kind is a plain close; over WebSocket
 * each picks a close code (specs/oap-1.md §12.1).
 */
export type CloseKind =
  /** Nothing wrong: an idle connection, or the peer is done. */
  | "normal"
  /** The node is draining. */
  | "going_away"
  /** The peer broke the protocol (a header error, a time limit); an error frame went first. */
  | "protocol_error";

/** What a transport reports to the session above it. */
export interface TransportReceiver {
  /** OAP/1 bytes: any slice of the byte stream over TLS, exactly one whole frame over WebSocket. */
  data(bytes: Buffer): void;
  /**
   * One read from the peer has been handed over (all its `data`): the session updates its
   * clocks (the transport's `pendingBytes` included) and writes the replies it produced, in
   * one write.
   */
  readDone(): void;
  /** The peer broke the transport's framing; the session answers and closes as for a header error. */
  violation(error: FrameHeaderError): void;
  /** The connection is gone. Called once. */
  closed(): void;
}

/**
 * What a ServerSession reads frames from and writes frames to. The session, admission and
 * services never learn which transport carries a connection: TLS and WebSocket are each an
 * adapter under this interface.
 */
export interface SessionTransport {
  readonly kind: TransportKind;
  /** Remote address, "ip:port". */
  readonly peer: string;
  /** Where the session's FrameWriter writes: whole frames, coalesced. */
  readonly output: ByteSink;
  /**
   * The output as the byte stream frames travel back to back on (TLS), which traffic shaping
   * wraps (specs/oap-1.md §10.1); absent where each frame is its own message (WebSocket).
   */
  readonly byteStream?: StreamSink;
  /** Reply bytes handed over but not yet taken by the kernel. */
  readonly writableLength: number;
  /** Bytes of a frame still arriving that the transport holds (a WebSocket message); 0 over TLS. */
  readonly pendingBytes: number;
  /** Reply bytes handed over so far, queued ones included. */
  readonly bytesWritten: number;
  /** Starts the flow of bytes and events to `receiver`; called once. */
  attach(receiver: TransportReceiver): void;
  /** Stops and restarts reading from the peer (backpressure). */
  pause(): void;
  resume(): void;
  /** Flushes what is queued, then closes. */
  end(why: CloseKind): void;
  /** Drops the connection at once. */
  destroy(): void;
}

/** OAP/1 over TLS: frames back to back on the socket's byte stream (specs/oap-1.md §12). */
export class SocketTransport implements SessionTransport {
  readonly kind = "tls";
  /** The session's own decoder holds a partial frame over TLS. */
  readonly pendingBytes = 0;
  readonly peer: string;

  constructor(private readonly socket: Socket) {
    this.peer = `${socket.remoteAddress ?? "?"}:${socket.remotePort ?? 0}`;
  }

  get output(): ByteSink {
    return this.socket;
  }

  get byteStream(): StreamSink {
    return this.socket;
  }

  get writableLength(): number {
    return this.socket.writableLength;
  }

  get bytesWritten(): number {
    return this.socket.bytesWritten;
  }

  attach(receiver: TransportReceiver): void {
    const socket = this.socket;
    socket.on("data", (chunk: Buffer) => {
      receiver.data(chunk);
      receiver.readDone();
    });
    socket.on("close", () => receiver.closed());
    // A TLS error after the handshake (a corrupt record) is only emitted, not followed by a
    // close: destroy the socket so the close handler tears everything down.
    socket.on("error", () => socket.destroy());
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    if (!this.socket.destroyed) this.socket.resume();
  }

  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }
}
