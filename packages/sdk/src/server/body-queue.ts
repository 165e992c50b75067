/**
 * What one queued chunk costs against the connection's read buffer: its bytes plus the
 * bookkeeping around them, so a flood of 1-byte frames is charged for the memory it takes.
 */
export function chunkCost(chunk: Uint8Array): number {
  return chunk.length + CHUNK_OVERHEAD;
}

/** Approximate heap cost of a queued view and its queue slot, in bytes. */
const CHUNK_OVERHEAD = 160;

/**
 * The request body of one stream as an async iterable. The session pushes chunks as
 * frames arrive; the service pulls them. `onConsumed` reports the cost (see chunkCost) of
 * what leaves the queue so the session can resume a paused socket.
 */
export class BodyQueue implements AsyncIterable<Uint8Array> {
  private readonly chunks: Uint8Array[] = [];
  private ended = false;
  private failure: Error | undefined;
  private waiter: (() => void) | undefined;
  private iterated = false;

  constructor(private readonly onConsumed: (bytes: number) => void) {}

  /** Cost of what was pushed and not yet consumed. */
  bufferedBytes = 0;

  /** Queues a chunk; returns what it costs (0 when it was not queued). */
  push(chunk: Uint8Array): number {
    if (this.ended || this.failure || chunk.length === 0) return 0;
    this.chunks.push(chunk);
    const cost = chunkCost(chunk);
    this.bufferedBytes += cost;
    this.wake();
    return cost;
  }

  end(): void {
    this.ended = true;
    this.wake();
  }

  /** Fails the iteration (stream aborted, connection closed). Buffered bytes are released. */
  fail(error: Error): void {
    if (this.ended && this.chunks.length === 0) return;
    this.failure = error;
    this.release();
    this.wake();
  }

  /** Drops whatever is buffered, e.g. when the service answered without reading its body. */
  release(): void {
    const bytes = this.bufferedBytes;
    this.chunks.length = 0;
    this.bufferedBytes = 0;
    if (bytes > 0) this.onConsumed(bytes);
  }

  /** Everything buffered as one buffer, if the body has ended and was not read yet. */
  takeIfEnded(): Uint8Array | undefined {
    if (!this.ended || this.iterated || this.failure) return undefined;
    this.iterated = true;
    const chunks = this.chunks.splice(0);
    const bytes = this.bufferedBytes;
    this.bufferedBytes = 0;
    if (bytes > 0) this.onConsumed(bytes);
    return chunks.length === 1 ? (chunks[0] as Uint8Array) : Buffer.concat(chunks);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    if (this.iterated) throw new Error("a request body can be read once");
    this.iterated = true;
    while (true) {
      const chunk = this.chunks.shift();
      if (chunk) {
        const cost = chunkCost(chunk);
        this.bufferedBytes -= cost;
        this.onConsumed(cost);
        yield chunk;
        continue;
      }
      if (this.failure) throw this.failure;
      if (this.ended) return;
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
      });
    }
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
  }
}
