import type { ByteSink, FrameHeaderError, StreamSink } from "@omnigate/oap/internal";

/** What a ClientTransport reports to the Connection above it. */
export interface TransportReceiver {
  /** OAP/1 bytes: any slice of the byte stream over TLS, exactly one whole frame over WebSocket. */
  data(bytes: Uint8Array): void;
  /** The node broke the transport's framing (a text message, a message that is not one frame). */
  invalid(error: FrameHeaderError): void;
  /** Why the connection is going away, learnt before it closes; the first reason given wins. */
  ending(message: string, error?: unknown): void;
  /** The connection is gone. Called once. */
  closed(): void;
}

/**
 * One open connection to the node under a client Connection: bytes in, a ByteSink out,
 * pause/resume, close. The Connection, its streams and the client never learn whether TLS or
 * a WebSocket carries them. An opener (TLS, WebSocket in Node, WebSocket in a browser) hands
 * one over once its handshake and trust checks are done.
 */
export interface ClientTransport {
  /** Where the connection's FrameWriter writes: whole frames, coalesced. */
  readonly sink: ByteSink;
  /**
   * The sink as the byte stream frames travel back to back on (TLS), which traffic shaping
   * wraps (specs/oap-1.md §10.1); absent where each frame is its own message (WebSocket).
   */
  readonly byteStream?: StreamSink;
  /** True once nothing more can be written: the transport is closing or closed. */
  readonly destroyed: boolean;
  /** Starts the flow of bytes and events to `receiver`; called once. */
  attach(receiver: TransportReceiver): void;
  /** Stops and restarts reading from the node (backpressure). */
  pause(): void;
  resume(): void;
  /** Sends what is queued, then closes politely (TLS close_notify, WebSocket close 1000). */
  end(): void;
  /** Drops the connection at once. */
  destroy(): void;
}

/**
 * Opens a transport to the node with its handshake and trust checks done. Rejects with an
 * OapConnectionError; once `signal` aborts it gives up and releases what it opened.
 */
export type TransportOpener = (signal: AbortSignal) => Promise<ClientTransport>;
