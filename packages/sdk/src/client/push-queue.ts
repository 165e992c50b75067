/**
 * Items pushed by the connection (EVENT frames of a stream), read at the consumer's pace.
 * The producer bounds it (a subscription's credit); the reader gets every queued item before
 * the end or the error.
 */
export class PushQueue<T> {
  private readonly items: T[] = [];
  private head = 0;
  private closed = false;
  private error: unknown;
  private waiter: (() => void) | undefined;

  get size(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    if (this.closed) return;
    this.items.push(item);
    this.wake();
  }

  /** No more items; `error` (if any) is thrown once the queued ones are read. */
  close(error?: unknown): void {
    if (this.closed) return;
    this.closed = true;
    this.error = error;
    this.wake();
  }

  /** The next item, waiting for one; undefined once closed and empty. Throws the close error. */
  async next(): Promise<T | undefined> {
    for (;;) {
      if (this.head < this.items.length) {
        const item = this.items[this.head] as T;
        this.head++;
        if (this.head === this.items.length) {
          this.items.length = 0;
          this.head = 0;
        }
        return item;
      }
      if (this.closed) {
        if (this.error !== undefined) throw this.error;
        return undefined;
      }
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
      });
    }
  }

  /** Takes every queued item out without reading them one by one (the reader left). */
  takeAll(): T[] {
    const left = this.items.slice(this.head);
    this.items.length = 0;
    this.head = 0;
    return left;
  }

  private wake(): void {
    const wake = this.waiter;
    this.waiter = undefined;
    wake?.();
  }
}
