import { randomFillSync } from "node:crypto";
import { createRequire } from "node:module";
import type { Socket } from "node:net";
import { type ByteSink, FrameMessageSplitter } from "@omnigate/oap/internal";

/** RFC 6455 §5.2: FIN set, opcode 2 (binary). */
const FIN_BINARY = 0x82;
/** The MASK bit of the second header byte: set on every frame a client sends. */
const MASKED = 0x80;
/** Longest WebSocket frame header: 2 bytes, a 64-bit length and a 4-byte masking key. */
const MAX_WS_HEADER = 14;
/** Masking keys are taken 4 bytes at a time from a pool of random bytes, refilled when used up. */
const KEY_POOL_BYTES = 8 * 1024;
/** Pieces up to this size are copied next to their message header; larger ones go by reference. */
const COPY_LIMIT = 16 * 1024;
/** Headers and small pieces are encoded into arenas of this size, as the FrameWriter does. */
const ARENA_SIZE = 64 * 1024;
const OPEN = 1;

type MaskFunction = (
  source: Uint8Array,
  mask: Uint8Array,
  output: Uint8Array,
  offset: number,
  length: number,
) => void;

/** bufferutil's native masking (what `ws` uses too), or the same loop in JavaScript. */
const maskBytes: MaskFunction =
  loadNativeMask() ??
  ((source, mask, output, offset, length) => {
    for (let i = 0; i < length; i++) output[offset + i] = (source[i] as number) ^ (mask[i & 3] as number);
  });

function loadNativeMask(): MaskFunction | undefined {
  try {
    return (createRequire(import.meta.url)("bufferutil") as { mask: MaskFunction }).mask;
  } catch {
    return undefined;
  }
}

/** What the sink needs of the `ws` WebSocket above the socket: whether data may still be sent. */
export interface WebSocketState {
  readonly readyState: number;
}

/**
 * OAP/1 over WebSocket from Node (specs/oap-1.md §12.1): each frame the FrameWriter writes
 * leaves as one binary WebSocket message, written straight to the TLS socket under the
 * WebSocket. The message header announces the whole OAP frame, so a frame whose bytes come
 * in several writes (a head, then a 64 KiB payload by reference) needs no fragments; headers
 * and small frames are copied into one buffer per write, so a batch of dozens of frames is
 * one socket write, as over TLS.
 *
 * The node's side sends unmasked frames; a client's (`masked`) masks each message with a
 * fresh random key (RFC 6455 §5.3), which copies every payload, large ones included.
 *
 * `ws` keeps the socket for reading and for its own control frames (ping, pong, close); both
 * write whole WebSocket frames synchronously, so they never interleave inside one. Nothing is
 * sent once the WebSocket is closing: no data may follow a close frame.
 */
export class WebSocketMessageSink implements ByteSink {
  private readonly splitter: FrameMessageSplitter;
  /** The masking key of the message being written, and how far into its payload we are. */
  private readonly key = new Uint8Array(4);
  private keyPhase = 0;
  private keyPool = new Uint8Array(0);
  private keyPoolAt = 0;
  /** What this write sends, in order: arena regions and pieces by reference. */
  private parts: Buffer[] = [];
  private arena = Buffer.allocUnsafe(ARENA_SIZE);
  private segmentStart = 0;
  private used = 0;

  constructor(
    private readonly ws: WebSocketState,
    private readonly socket: Socket,
    private readonly masked = false,
  ) {
    this.splitter = new FrameMessageSplitter((piece, _last, frameLen) => {
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

  /** The header of a binary message of `length` bytes (RFC 6455 §5.2), with its key when masked. */
  private messageHeader(length: number): void {
    this.reserve(MAX_WS_HEADER);
    const arena = this.arena;
    const maskBit = this.masked ? MASKED : 0;
    let at = this.used;
    arena[at++] = FIN_BINARY;
    if (length < 126) {
      arena[at++] = maskBit | length;
    } else if (length < 0x1_0000) {
      arena[at++] = maskBit | 126;
      arena.writeUInt16BE(length, at);
      at += 2;
    } else {
      arena[at++] = maskBit | 127;
      arena.writeUInt32BE(0, at);
      arena.writeUInt32BE(length, at + 4);
      at += 8;
    }
    if (this.masked) {
      this.nextKey();
      arena.set(this.key, at);
      at += 4;
    }
    this.used = at;
  }

  private append(piece: Uint8Array): void {
    const length = piece.byteLength;
    if (length > COPY_LIMIT) {
      this.closeSegment();
      if (!this.masked) {
        this.parts.push(Buffer.from(piece.buffer, piece.byteOffset, length));
        return;
      }
      const copy = Buffer.allocUnsafe(length);
      this.mask(piece, copy, 0);
      this.parts.push(copy);
      return;
    }
    this.reserve(length);
    if (this.masked) this.mask(piece, this.arena, this.used);
    else this.arena.set(piece, this.used);
    this.used += length;
  }

  /** Writes `piece` masked into `output` at `offset`, continuing the message's key phase. */
  private mask(piece: Uint8Array, output: Uint8Array, offset: number): void {
    const phase = this.keyPhase;
    const key =
      phase === 0
        ? this.key
        : Uint8Array.of(
            this.key[phase] as number,
            this.key[(phase + 1) & 3] as number,
            this.key[(phase + 2) & 3] as number,
            this.key[(phase + 3) & 3] as number,
          );
    maskBytes(piece, key, output, offset, piece.byteLength);
    this.keyPhase = (phase + piece.byteLength) & 3;
  }

  private nextKey(): void {
    if (this.keyPoolAt + 4 > this.keyPool.byteLength) {
      this.keyPool = randomFillSync(new Uint8Array(KEY_POOL_BYTES));
      this.keyPoolAt = 0;
    }
    this.key.set(this.keyPool.subarray(this.keyPoolAt, this.keyPoolAt + 4));
    this.keyPoolAt += 4;
    this.keyPhase = 0;
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
