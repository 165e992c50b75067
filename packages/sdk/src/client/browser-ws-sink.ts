import {
  type ByteSink,
  concatBytes,
  copyBytes,
  FrameMessageSplitter,
  nextTick,
} from "@omnigate/oap/internal";
import { type PlatformWebSocket, WEBSOCKET_OPEN } from "./platform-websocket.js";

/** Bytes queued in the WebSocket above which writers are asked to wait (writableNeedDrain). */
export const HIGH_WATER_BYTES = 1024 * 1024;
/** Queued bytes at or below which waiting writers go on ("drain"). */
export const LOW_WATER_BYTES = 256 * 1024;
/** How often bufferedAmount is read while writers wait: a WebSocket has no drain event. */
export const DRAIN_POLL_MS = 5;

type SinkEvent = "drain" | "close";

/**
 * The ByteSink of OAP/1 over a platform WebSocket (specs/oap-1.md §12.1): each frame the
 * FrameWriter writes leaves as one binary message. The platform API cannot send fragments,
 * so the pieces of a frame that arrive apart (a header in the batch, a large payload by
 * reference) are joined into one message. Backpressure is bufferedAmount, read after each
 * write and polled while writers wait for "drain".
 */
export class BrowserWebSocketSink implements ByteSink {
  private readonly splitter: FrameMessageSplitter;
  /** Pieces of a frame whose end has not been written yet. */
  private pieces: Uint8Array[] = [];
  private piecesBytes = 0;
  private needDrain = false;
  private pollTimer: ReturnType<typeof setTimeout> | undefined;
  private isClosed = false;
  private readonly listeners: Record<SinkEvent, Array<{ listener: () => void; once: boolean }>> = {
    drain: [],
    close: [],
  };

  constructor(private readonly ws: PlatformWebSocket) {
    this.splitter = new FrameMessageSplitter((piece, last) => this.piece(piece, last));
  }

  write(chunk: Buffer, callback?: (error?: Error | null) => void): boolean {
    this.splitter.push(chunk);
    // Nothing of `chunk` is kept: send() copies what it is given, and a piece held for a
    // frame's later bytes is a copy. So the caller may reuse its buffer once this returns.
    if (callback) nextTick(() => callback());
    if (!this.needDrain && this.ws.bufferedAmount > HIGH_WATER_BYTES) {
      this.needDrain = true;
      this.pollDrain();
    }
    return !this.needDrain;
  }

  cork(): void {}

  uncork(): void {}

  get writableNeedDrain(): boolean {
    return this.needDrain;
  }

  get destroyed(): boolean {
    return this.isClosed || this.ws.readyState !== WEBSOCKET_OPEN;
  }

  on(event: SinkEvent, listener: () => void): this {
    this.listeners[event].push({ listener, once: false });
    return this;
  }

  once(event: "close", listener: () => void): this {
    this.listeners[event].push({ listener, once: true });
    return this;
  }

  off(event: SinkEvent, listener: () => void): this {
    const list = this.listeners[event];
    const at = list.findIndex((entry) => entry.listener === listener);
    if (at >= 0) list.splice(at, 1);
    return this;
  }

  /** The WebSocket closed: writers waiting for room are released, later writes dropped. */
  closed(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    clearTimeout(this.pollTimer);
    this.pieces = [];
    this.piecesBytes = 0;
    this.emit("close");
  }

  private piece(piece: Uint8Array, last: boolean): void {
    if (!last) {
      // Held as a copy: the caller may reuse its buffer before the frame's last piece arrives.
      this.pieces.push(copyBytes(piece));
      this.piecesBytes += piece.length;
      return;
    }
    if (this.pieces.length === 0) {
      this.send(piece);
      return;
    }
    this.pieces.push(piece);
    const message = concatBytes(this.pieces, this.piecesBytes + piece.length);
    this.pieces = [];
    this.piecesBytes = 0;
    this.send(message);
  }

  private send(message: Uint8Array): void {
    if (this.destroyed) return;
    this.ws.send(message);
  }

  private pollDrain(): void {
    this.pollTimer = setTimeout(() => {
      this.pollTimer = undefined;
      if (this.isClosed) return;
      if (this.ws.bufferedAmount > LOW_WATER_BYTES) {
        this.pollDrain();
        return;
      }
      this.needDrain = false;
      this.emit("drain");
    }, DRAIN_POLL_MS);
  }

  private emit(event: SinkEvent): void {
    const list = this.listeners[event];
    this.listeners[event] = list.filter((entry) => !entry.once);
    for (const { listener } of list) listener();
  }
}
