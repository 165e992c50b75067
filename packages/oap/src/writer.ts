import type { Writable } from "node:stream";
import { encodeHead, type FrameInit } from "./frame.js";

/** Payloads at or below this size are copied into the batch; larger ones are written by reference. */
const COPY_THRESHOLD = 16 * 1024;
/** Flush a batch early once it holds this many bytes. */
const BATCH_LIMIT = 64 * 1024;

/**
 * Writes frames to a socket, coalescing the small frames produced in one turn of the
 * event loop into a single write (one TLS record instead of dozens), and exposing the
 * socket's backpressure so producers can wait for `drain`.
 */
export class FrameWriter {
  private batch: Buffer[] = [];
  private batchBytes = 0;
  private flushScheduled = false;
  private closed = false;
  private drainWaiter: Promise<void> | undefined;

  constructor(private readonly socket: Writable) {
    socket.once("close", () => {
      this.closed = true;
      this.batch = [];
      this.batchBytes = 0;
    });
  }

  /** True once the socket closed; writes are dropped from then on. */
  get isClosed(): boolean {
    return this.closed || this.socket.destroyed;
  }

  /** Queues a frame. Returns false when the caller should wait for `drained()` before writing more. */
  write(init: FrameInit): boolean {
    if (this.closed || this.socket.destroyed) return false;
    const payload = init.payload;
    const payloadLen = payload?.byteLength ?? 0;
    const head = encodeHead(init, payloadLen);
    this.push(head);
    if (payload && payloadLen > 0) {
      // Large payloads go by reference: copying 64 KiB chunks would cost more than the extra write.
      this.push(payloadLen <= COPY_THRESHOLD ? Buffer.from(payload) : asBuffer(payload));
    }
    if (this.batchBytes >= BATCH_LIMIT) this.flush();
    else this.scheduleFlush();
    return !this.socket.writableNeedDrain;
  }

  /** Writes everything batched so far. */
  flush(): void {
    if (this.batch.length === 0 || this.closed) return;
    const parts = this.batch;
    this.batch = [];
    this.batchBytes = 0;
    const chunk = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
    this.socket.write(chunk);
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

  private push(buf: Buffer): void {
    this.batch.push(buf);
    this.batchBytes += buf.byteLength;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
