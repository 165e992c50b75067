import { type ByteSink, FrameMessageSplitter } from "@omnigate/oap";

/** What the sink needs of a `ws` WebSocket: sending a message, or one fragment of it. */
export interface FragmentSender {
  send(
    data: Uint8Array,
    options: { binary: boolean; fin: boolean; compress: boolean },
    callback?: (error?: Error) => void,
  ): void;
}

/** The TLS socket under the WebSocket: corked around a burst, and the source of backpressure. */
export type UnderlyingSocket = Omit<ByteSink, "write">;

/**
 * The ByteSink of OAP/1 over a `ws` WebSocket in Node (specs/oap-1.md §12.1): each frame the
 * FrameWriter writes leaves as one binary message. A frame whose bytes arrive in several
 * pieces (a header in the batch, a large payload by reference) is sent as fragments of one
 * message instead of a joined copy. One write is one corked burst on the socket, so dozens
 * of small messages leave in one TLS write, as frames do over TLS. Backpressure and close
 * are the socket's: nothing is queued above it (permessage-deflate is off).
 */
export class WebSocketFrameSink implements ByteSink {
  private readonly splitter: FrameMessageSplitter;
  /** The callback of the write being cut, handed to the send of its last piece. */
  private writeCallback: ((error?: Error | null) => void) | undefined;

  constructor(
    private readonly ws: FragmentSender,
    private readonly socket: UnderlyingSocket,
  ) {
    this.splitter = new FrameMessageSplitter((piece, last, chunkEnd) => {
      const callback = chunkEnd ? this.writeCallback : undefined;
      if (chunkEnd) this.writeCallback = undefined;
      this.ws.send(piece, { binary: true, fin: last, compress: false }, callback);
    });
  }

  write(chunk: Buffer, callback?: (error?: Error | null) => void): boolean {
    this.writeCallback = callback;
    this.socket.cork();
    const ended = this.splitter.push(chunk);
    this.socket.uncork();
    if (!ended || chunk.byteLength === 0) {
      // No piece ended this chunk (it ended inside a frame's len, whose bytes the splitter
      // copied): nothing of the caller's buffer is still held.
      this.writeCallback = undefined;
      callback?.();
    }
    return !this.socket.writableNeedDrain;
  }

  cork(): void {
    this.socket.cork();
  }

  uncork(): void {
    this.socket.uncork();
  }

  get writableNeedDrain(): boolean {
    return this.socket.writableNeedDrain;
  }

  get destroyed(): boolean {
    return this.socket.destroyed;
  }

  on(event: "drain" | "close", listener: () => void): this {
    this.socket.on(event, listener);
    return this;
  }

  once(event: "close", listener: () => void): this {
    this.socket.once(event, listener);
    return this;
  }

  off(event: "drain" | "close", listener: () => void): this {
    this.socket.off(event, listener);
    return this;
  }
}
