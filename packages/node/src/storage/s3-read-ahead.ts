import type { Readable } from "node:stream";

/**
 * An HTTP body read ahead into a bounded queue. A GET waits for its client to take each block
 * before it reads the next; without a queue the body would stall in the socket's small buffers
 * meanwhile, and every block would pay for the store's latency again. Up to `aheadBytes` keep
 * arriving while the node sends; past that the body is paused (TCP pushes back on the store).
 */
export class ReadAheadBody {
  private readonly queue: Buffer[] = [];
  private queued = 0;
  private ended = false;
  private failure: unknown;
  private wake: (() => void) | undefined;

  constructor(
    private readonly body: Readable,
    private readonly aheadBytes: number,
  ) {
    body.on("data", (chunk: Buffer) => {
      this.queue.push(chunk);
      this.queued += chunk.byteLength;
      if (this.queued >= this.aheadBytes) body.pause();
      this.notify();
    });
    body.once("end", () => {
      this.ended = true;
      this.notify();
    });
    body.on("error", (error) => {
      this.failure = error;
      this.notify();
    });
  }

  /** Copies the next bytes into `into`, waiting for some; 0 once the body has ended. */
  async read(into: Uint8Array): Promise<number> {
    while (this.queue.length === 0) {
      if (this.failure !== undefined) throw this.failure;
      if (this.ended) return 0;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
    let done = 0;
    while (done < into.byteLength && this.queue.length > 0) {
      const head = this.queue[0] as Buffer;
      const piece = head.subarray(0, into.byteLength - done);
      into.set(piece, done);
      done += piece.byteLength;
      if (piece.byteLength === head.byteLength) this.queue.shift();
      else this.queue[0] = head.subarray(piece.byteLength);
    }
    this.queued -= done;
    if (this.queued < this.aheadBytes && this.body.isPaused()) this.body.resume();
    return done;
  }

  /** Drops the body: its connection is closed rather than drained. */
  destroy(): void {
    this.body.destroy();
    this.queue.length = 0;
    this.queued = 0;
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
