import type { Socket } from "node:net";
import { type ByteSink, FrameMessageSplitter } from "@omnigate/oap";

/** RFC 6455 §5.2: FIN set, opcode 2 (binary). Server frames are never masked. */
const FIN_BINARY = 0x82;
/** Longest WebSocket frame header a server writes: 2 bytes and a 64-bit length. */
const MAX_WS_HEADER = 10;
/** Pieces up to this size are copied next to their message header; larger ones go by reference. */
const COPY_LIMIT = 16 * 1024;
/** Headers and small pieces are encoded into arenas of this size, as the FrameWriter does. */
const ARENA_SIZE = 64 * 1024;
const OPEN = 1;

/** What the sink needs of the `ws` WebSocket above the socket: whether data may still be sent. */
export interface WebSocketState {
  readonly readyState: number;
}

/**
 * The node's side of OAP/1 over WebSocket (specs/oap-1.md §12.1): each frame the
 * FrameWriter writes leaves as one unmasked binary WebSocket message, written straight to the
 * TLS socket under the WebSocket. The message header announces the whole OAP frame, so a frame
 * whose bytes come in several writes (a head, then a 64 KiB payload by reference) needs no
 * fragments; headers and small frames are copied into one buffer per write, so a batch of
 * dozens of replies is one socket write, as over TLS.
 *
 * `ws` keeps the socket for reading and for its own control frames (pong, close); both sides
 * write whole WebSocket frames synchronously, so they never interleave inside one. Nothing is
 * sent once the WebSocket is closing: no data may follow a close frame.
 */
export class WebSocketMessageSink implements ByteSink {
  private readonly splitter: FrameMessageSplitter;
  /** What this write sends, in order: arena regions and pieces by reference. */
  private parts: Buffer[] = [];
  private arena = Buffer.allocUnsafe(ARENA_SIZE);
  private segmentStart = 0;
  private used = 0;

  constructor(
    private readonly ws: WebSocketState,
    private readonly socket: Socket,
  ) {
    this.splitter = new FrameMessageSplitter((piece, _last, _chunkEnd, frameLen) => {
      if (frameLen > 0) this.messageHeader(frameLen);
      this.append(piece);
    });
  }

  write(chunk: Buffer, callback?: (error?: Error | null) => void): boolean {
    if (this.ws.readyState !== OPEN || this.socket.destroyed) {
      callback?.();
      return false;
    }
    this.splitter.push(chunk);
    this.closeSegment();
    const parts = this.parts;
    this.parts = [];
    if (parts.length === 0) {
      callback?.();
    } else if (parts.length === 1) {
      this.socket.write(parts[0] as Buffer, callback);
    } else {
      this.socket.cork();
      for (let i = 0; i < parts.length - 1; i++) this.socket.write(parts[i] as Buffer);
      this.socket.write(parts[parts.length - 1] as Buffer, callback);
      this.socket.uncork();
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

  /** The header of a binary message of `length` bytes (RFC 6455 §5.2). */
  private messageHeader(length: number): void {
    this.reserve(MAX_WS_HEADER);
    const arena = this.arena;
    let at = this.used;
    arena[at++] = FIN_BINARY;
    if (length < 126) {
      arena[at++] = length;
    } else if (length < 0x1_0000) {
      arena[at++] = 126;
      arena.writeUInt16BE(length, at);
      at += 2;
    } else {
      arena[at++] = 127;
      arena.writeUInt32BE(0, at);
      arena.writeUInt32BE(length, at + 4);
      at += 8;
    }
    this.used = at;
  }

  private append(piece: Uint8Array): void {
    if (piece.byteLength > COPY_LIMIT) {
      this.closeSegment();
      this.parts.push(Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength));
      return;
    }
    this.reserve(piece.byteLength);
    this.arena.set(piece, this.used);
    this.used += piece.byteLength;
  }

  private reserve(bytes: number): void {
    if (this.used + bytes <= this.arena.byteLength) return;
    this.closeSegment();
    // A written region belongs to the socket from then on: start a new arena, never reuse one.
    this.arena = Buffer.allocUnsafe(ARENA_SIZE);
    this.segmentStart = 0;
    this.used = 0;
  }

  private closeSegment(): void {
    if (this.used === this.segmentStart) return;
    this.parts.push(this.arena.subarray(this.segmentStart, this.used));
    this.segmentStart = this.used;
  }
}
