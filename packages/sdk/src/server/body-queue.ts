/**
 * The request body of one stream as an async iterable. The session pushes chunks as
 * frames arrive; the service pulls them. `onConsumed` reports bytes leaving the queue so
 * the session can resume a paused socket (connection-level backpressure).
 */
export class BodyQueue implements AsyncIterable<Uint8Array> {
  private readonly chunks: Uint8Array[] = [];
  private ended = false;
  private failure: Error | undefined;
  private waiter: (() => void) | undefined;
  private iterated = false;

  constructor(private readonly onConsumed: (bytes: number) => void) {}

  /** Bytes pushed but not yet consumed. */
  bufferedBytes = 0;

  push(chunk: Uint8Array): void {
    if (this.ended || this.failure || chunk.byteLength === 0) return;
    this.chunks.push(chunk);
    this.bufferedBytes += chunk.byteLength;
    this.wake();
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
        this.bufferedBytes -= chunk.byteLength;
        this.onConsumed(chunk.byteLength);
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
