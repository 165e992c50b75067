import { Arena } from "./arena.js";
import { asBuffer, copyInto, nextTick } from "./bytes.js";
import { HEADER_LEN } from "./constants.js";
import type { FrameInit } from "./frame-types.js";
import { writeHeaderTo } from "./header.js";

/** A frame's fixed fields: FrameInit without its payload. */
export interface FrameHead extends Omit<FrameInit, "payload"> {
  /**
   * `corrId` as a number, for a sender that has it (see Frame.corrKey): written without BigInt
   * work. It must name the same id as `corrId`; absent, −1 or above 2^53 − 1, `corrId` is written.
   */
  corrKey?: number;
}

/** A frame to write: a FrameInit, with the optional numeric corr_id of FrameHead. */
export type OutgoingFrame = FrameHead & Pick<FrameInit, "payload">;

/** A START frame given as its payload's pieces (see FrameWriter.writeStart). */
export interface StartFrameInit extends FrameHead {
  /** Meta JSON as made by encodeMeta; undefined for none. */
  meta?: Uint8Array | undefined;
  body?: Uint8Array;
}

/**
 * What a FrameWriter writes to: the subset of a Node `Writable` it uses, so a transport that
 * is not a byte stream (a WebSocket carrying one frame per message) can stand in for a socket.
 */
export interface ByteSink {
  write(chunk: Buffer, callback?: (error?: Error | null) => void): boolean;
  cork(): void;
  uncork(): void;
  readonly writableNeedDrain: boolean;
  readonly destroyed: boolean;
  on(event: "drain" | "close", listener: () => void): unknown;
  once(event: "close", listener: () => void): unknown;
  off(event: "drain" | "close", listener: () => void): unknown;
  /**
   * For a sink that holds bytes back (a ShapingSink): write them now and stop holding. Called
   * before the connection ends or the sink is replaced.
   */
  release?(): void;
}

const EMPTY = new Uint8Array(0);

/** Payloads at or below this size are copied into the arena; larger ones are written by reference. */
const COPY_THRESHOLD = 16 * 1024;
/**
 * Flush a batch early once it holds this many bytes. Small on purpose: the peer starts on the
 * first replies while later ones are still being produced, so a pipelined connection keeps
 * both ends busy instead of alternating (measured best of 1–64 KiB on the echo benchmark).
 */
export const WRITE_BATCH_BYTES = 4 * 1024;

/**
 * Writes frames to a socket, coalescing the small frames produced in one turn of the
 * event loop into a single write (one TLS record instead of dozens), and exposing the
 * socket's backpressure so producers can wait for `drain`.
 *
 * Small frames are encoded in place in an arena; a flushed region of it belongs to the
 * socket from then on, so encoding continues after it, and a full arena is replaced by another
 * (a spare one once the socket has written every region of it: see Arena).
 */
export class FrameWriter {
  /** Segments ready to write, in order: arena regions and large payloads by reference. */
  private parts: Buffer[] = [];
  /** Per part, what to call once the socket is done with it (payloads given an onWritten). */
  private partDone: Array<(() => void) | undefined> = [];
  private partsBytes = 0;
  private currentArena = Arena.take();
  private arena = this.currentArena.bytes;
  /** The arena as a DataView, for the headers. */
  private arenaView = this.currentArena.view;
  /** Start of the arena region not yet moved to `parts`. */
  private segmentStart = 0;
  private used = 0;
  private flushScheduled = false;
  /** The batch references a caller's payload instead of a copy. */
  private holdsReference = false;
  private closed = false;
  private drainWaiter: Promise<void> | undefined;

  /** Where frames go: the connection's socket, or a sink wrapping it (see useSink). */
  private socket: ByteSink;

  constructor(socket: ByteSink) {
    this.socket = socket;
    socket.once("close", () => {
      this.closed = true;
      this.dropParts();
    });
  }

  /** True once the socket closed; writes are dropped from then on. */
  get isClosed(): boolean {
    return this.closed || this.socket.destroyed;
  }

  /**
   * Queues a frame. Returns false when the caller should wait for `drained()` before writing more.
   *
   * `onWritten` is called once the socket is done with the payload, so its buffer may be
   * reused: at once when the payload was copied into the batch (or the connection is gone),
   * else when the socket has written it or failed to.
   */
  write(init: OutgoingFrame, onWritten?: () => void): boolean {
    if (this.closed || this.socket.destroyed) {
      onWritten?.();
      return false;
    }
    const payload = init.payload ?? EMPTY;
    const payloadLen = payload.length;
    const at = this.writeHead(init, payloadLen, payloadLen <= COPY_THRESHOLD ? payloadLen : 0);
    this.append(payload, at, onWritten);
    return this.batched();
  }

  /**
   * Queues a START frame whose payload is `meta_len | meta | body` (specs/oap-1.md §6), encoding
   * the pieces straight into the batch instead of building the payload first: what a small
   * request or reply is, so it saves a buffer and a copy per message. `meta` is the JSON that
   * encodeMeta made (undefined: meta_len 0). Same result as write() with that payload, and
   * `onWritten` as there, for `body`.
   */
  writeStart(init: StartFrameInit, onWritten?: () => void): boolean {
    if (this.closed || this.socket.destroyed) {
      onWritten?.();
      return false;
    }
    const meta = init.meta;
    const metaLen = meta?.length ?? 0;
    const body = init.body ?? EMPTY;
    const bodyLen = body.length;
    const headLen = 2 + metaLen;
    let at = this.writeHead(init, headLen + bodyLen, headLen + (bodyLen <= COPY_THRESHOLD ? bodyLen : 0));
    this.arenaView.setUint16(at, metaLen);
    at += 2;
    if (meta && metaLen > 0) {
      copyInto(this.arena, meta, at);
      at += metaLen;
    }
    this.append(body, at, onWritten);
    return this.batched();
  }

  /** Writes everything batched so far. */
  flush(): void {
    this.closeSegment();
    if (this.closed) return this.dropParts();
    if (this.parts.length === 0) return;
    const parts = this.parts;
    const done = this.partDone;
    this.parts = [];
    this.partDone = [];
    this.partsBytes = 0;
    this.holdsReference = false;
    if (parts.length === 1) {
      this.socket.write(parts[0] as Buffer, done[0]);
      return;
    }
    // Several parts (arena regions around large payloads): one corked burst. A plain socket
    // writes it with writev; TLS copies it into one buffer to encrypt, as it would our concatenation.
    this.socket.cork();
    for (let i = 0; i < parts.length; i++) this.socket.write(parts[i] as Buffer, done[i]);
    this.socket.uncork();
  }

  /**
   * Writes what is batched to the current sink, lets it release what it holds, and sends all
   * later frames to `sink`, which must write to the same socket (traffic shaping wraps it once
   * the peer agreed in HELLO). The socket's close still ends this writer.
   */
  useSink(sink: ByteSink): void {
    this.flush();
    this.socket.release?.();
    this.socket = sink;
  }

  /** Writes everything batched, and whatever the sink holds back: the connection is about to end. */
  finish(): void {
    this.flush();
    this.socket.release?.();
  }

  /** Resolves once the socket has room again (immediately if it has room now, or it closed). */
  drained(): Promise<void> {
    if (!this.socket.writableNeedDrain || this.isClosed) return Promise.resolve();
    // One waiter shared by every producer, so many waiting streams add two listeners, not 2×N.
    this.drainWaiter ??= new Promise((resolve) => {
      const done = () => {
        this.socket.off("drain", done);
        this.socket.off("close", done);
        this.drainWaiter = undefined;
        resolve();
      };
      this.socket.on("drain", done);
      this.socket.on("close", done);
    });
    return this.drainWaiter;
  }

  /**
   * Makes room for the header, the capability and `inlineLen` payload bytes, and writes the
   * header and capability of a frame with `payloadLen` payload bytes; returns where the
   * payload goes.
   */
  private writeHead(init: FrameHead, payloadLen: number, inlineLen: number): number {
    const cap = init.cap;
    const capLen = cap?.length ?? 0;
    this.reserve(HEADER_LEN + capLen + inlineLen);
    const arena = this.arena;
    const at = this.used;
    writeHeaderTo(
      this.arenaView,
      at,
      HEADER_LEN + capLen + payloadLen,
      init.flags,
      init.code ?? 0,
      init.appProtoId,
      init.tenantId ?? 0n,
      capLen,
      init.corrId,
      init.corrKey,
    );
    if (cap && capLen > 0) copyInto(arena, cap, at + HEADER_LEN);
    return at + HEADER_LEN + capLen;
  }

  /** Ends the frame being encoded with `bytes` at `at`: copied when small, by reference when large. */
  private append(bytes: Uint8Array, at: number, onWritten?: () => void): void {
    const len = bytes.length;
    if (len <= COPY_THRESHOLD) {
      if (len > 0) copyInto(this.arena, bytes, at);
      this.used = at + len;
      onWritten?.();
      return;
    }
    this.used = at;
    // Large payloads go by reference: copying 64 KiB chunks would cost more than the extra write.
    this.closeSegment();
    this.parts.push(asBuffer(bytes));
    this.partDone.push(onWritten);
    this.partsBytes += len;
    this.holdsReference = true;
  }

  /** Forgets what was never written (the socket closed), telling each payload's owner it is free. */
  private dropParts(): void {
    const done = this.partDone;
    this.parts = [];
    this.partDone = [];
    this.partsBytes = 0;
    for (const callback of done) callback?.();
  }

  /** A frame was added to the batch: flush now if it is big, else at the end of this turn. */
  private batched(): boolean {
    // A payload held by reference goes to the socket now, so the caller's buffer is not read
    // after write() returns (the socket then owns it, as with any Node stream write).
    if (this.holdsReference || this.pendingBytes() >= WRITE_BATCH_BYTES) this.flush();
    else this.scheduleFlush();
    return !this.socket.writableNeedDrain;
  }

  private pendingBytes(): number {
    return this.partsBytes + (this.used - this.segmentStart);
  }

  /** Makes room for `bytes` contiguous bytes in the arena. */
  private reserve(bytes: number): void {
    if (this.used + bytes <= this.arena.length) return;
    this.closeSegment();
    this.currentArena.retire();
    this.currentArena = Arena.take(bytes);
    this.arena = this.currentArena.bytes;
    this.arenaView = this.currentArena.view;
    this.segmentStart = 0;
    this.used = 0;
  }

  /** Moves the arena bytes encoded since the last segment into `parts`. */
  private closeSegment(): void {
    if (this.used === this.segmentStart) return;
    this.parts.push(this.arena.subarray(this.segmentStart, this.used));
    this.partDone.push(this.currentArena.hold());
    this.partsBytes += this.used - this.segmentStart;
    this.segmentStart = this.used;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // Scheduled from a promise continuation, a tick runs only after the whole microtask queue,
    // so every caller woken by the same burst of replies lands in the same write.
    nextTick(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }
}
