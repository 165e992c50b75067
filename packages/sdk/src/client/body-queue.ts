/** Where a queue reports the bytes it holds, so the connection can pause its socket. */
export interface BufferAccount {
  add(bytes: number): void;
  remove(bytes: number): void;
}

type Reader = {
  resolve(result: IteratorResult<Buffer>): void;
  reject(error: unknown): void;
};

/**
 * Response body chunks of one stream, waiting for their reader. Bytes held here are reported to
 * the connection's account, which pauses the socket when readers fall too far behind.
 */
export class BodyQueue implements AsyncIterable<Buffer> {
  private chunks: Buffer[] = [];
  private held = 0;
  private ended = false;
  private failure: { error: unknown } | undefined;
  private discarding = false;
  private reader: Reader | undefined;

  constructor(private readonly account: BufferAccount) {}

  /** Bytes received and not yet read. */
  get bufferedBytes(): number {
    return this.held;
  }

  push(chunk: Buffer): void {
    if (this.ended || this.failure || this.discarding || chunk.byteLength === 0) return;
    if (this.reader) {
      const reader = this.reader;
      this.reader = undefined;
      reader.resolve({ value: chunk, done: false });
      return;
    }
    this.chunks.push(chunk);
    this.held += chunk.byteLength;
    this.account.add(chunk.byteLength);
  }

  /** No more chunks: the reader finishes after the buffered ones. */
  end(): void {
    if (this.ended || this.failure) return;
    this.ended = true;
    this.wakeReader();
  }

  /**
   * The stream failed: the reader gets the buffered chunks, then `error`; with `discard`,
   * the buffered chunks are dropped and `error` comes at once.
   */
  fail(error: unknown, discard = false): void {
    if (this.ended || this.failure) return;
    this.failure = { error };
    if (discard) this.dropBuffered();
    this.wakeReader();
  }

  /** The reader is gone: drop what is held and whatever still arrives. */
  discard(): void {
    this.discarding = true;
    this.dropBuffered();
  }

  next(): Promise<IteratorResult<Buffer>> {
    const chunk = this.chunks.shift();
    if (chunk) {
      this.held -= chunk.byteLength;
      this.account.remove(chunk.byteLength);
      return Promise.resolve({ value: chunk, done: false });
    }
    if (this.failure) return Promise.reject(this.failure.error);
    if (this.ended || this.discarding) return Promise.resolve({ value: undefined, done: true });
    if (this.reader)
      return Promise.reject(new Error("a response body can only be read by one reader at a time"));
    return new Promise((resolve, reject) => {
      this.reader = { resolve, reject };
    });
  }

  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    return {
      next: () => this.next(),
      return: () => {
        this.discard();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }

  private wakeReader(): void {
    if (!this.reader) return;
    const reader = this.reader;
    this.reader = undefined;
    if (this.failure) reader.reject(this.failure.error);
    else reader.resolve({ value: undefined, done: true });
  }

  private dropBuffered(): void {
    if (this.held > 0) this.account.remove(this.held);
    this.chunks = [];
    this.held = 0;
  }
}
