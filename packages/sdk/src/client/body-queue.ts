import { concatBytes } from "@omnigate/oap/internal";

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
  private settledListeners: Array<() => void> = [];

  constructor(private readonly account: BufferAccount) {}

  /** Bytes received and not yet read. */
  get bufferedBytes(): number {
    return this.held;
  }

  /** Nothing is held and nothing more will be: the body ended, failed or was discarded, and was read. */
  get isSettled(): boolean {
    return this.held === 0 && (this.ended || this.failure !== undefined || this.discarding);
  }

  /** Calls `listener` once the queue is settled (at once if it is); returns the detach. */
  onSettled(listener: () => void): () => void {
    if (this.isSettled) {
      listener();
      return () => {};
    }
    this.settledListeners.push(listener);
    return () => {
      this.settledListeners = this.settledListeners.filter((l) => l !== listener);
    };
  }

  push(chunk: Buffer): void {
    if (this.ended || this.failure || this.discarding || chunk.length === 0) return;
    if (this.reader) {
      const reader = this.reader;
      this.reader = undefined;
      reader.resolve({ value: chunk, done: false });
      return;
    }
    this.chunks.push(chunk);
    this.held += chunk.length;
    this.account.add(chunk.length);
  }

  /** No more chunks: the reader finishes after the buffered ones. */
  end(): void {
    if (this.ended || this.failure) return;
    this.ended = true;
    this.wakeReader();
    this.checkSettled();
  }

  /**
   * The stream failed: the reader gets the buffered chunks, then `error`; with `discard`, the
   * buffered chunks are dropped and `error` comes at once. No effect once the body ended,
   * failed or was discarded.
   */
  fail(error: unknown, discard = false): void {
    if (this.ended || this.failure || this.discarding) return;
    this.failure = { error };
    if (discard) this.dropBuffered();
    this.wakeReader();
    this.checkSettled();
  }

  /**
   * Drops the chunks not read yet, even of a body that ended or failed; if there were any, the
   * reader gets `error` next instead of them (never a silently short body).
   */
  dropUnread(error: unknown): void {
    if (this.discarding || this.chunks.length === 0) return;
    this.failure = { error };
    this.dropBuffered();
    this.checkSettled();
  }

  /** The reader is gone: drop what is held and whatever still arrives; reading ends at once. */
  discard(): void {
    this.discarding = true;
    this.dropBuffered();
    this.wakeReader();
    this.checkSettled();
  }

  /**
   * The whole body at once, if it has ended well and nobody read from it yet (the common
   * one-frame response); otherwise undefined and the queue is untouched. Takes the bytes out.
   */
  takeIfEnded(): Buffer | undefined {
    if (!this.ended || this.failure || this.discarding || this.reader) return undefined;
    const chunks = this.chunks;
    const bytes = this.held;
    this.chunks = [];
    this.held = 0;
    if (bytes > 0) this.account.remove(bytes);
    this.checkSettled();
    return chunks.length === 1 ? (chunks[0] as Buffer) : concatBytes(chunks, bytes);
  }

  next(): Promise<IteratorResult<Buffer>> {
    const chunk = this.chunks.shift();
    if (chunk) {
      this.held -= chunk.length;
      this.account.remove(chunk.length);
      this.checkSettled();
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

  private checkSettled(): void {
    if (!this.isSettled || this.settledListeners.length === 0) return;
    const listeners = this.settledListeners;
    this.settledListeners = [];
    for (const listener of listeners) listener();
  }
}
