import type { KernelEvent } from "./events.js";

/**
 * A bounded in-process publish/subscribe bus. Each subscriber has its own queue of at most
 * `capacity` events; when a slow subscriber's queue is full the oldest event is dropped
 * (and counted through `onDrop`), so a stuck subscriber can neither block publishers nor
 * grow memory.
 */
export class KernelBus {
  private readonly subscribers = new Set<Subscription>();
  private closed = false;

  constructor(
    private readonly capacity: number,
    private readonly onDrop: () => void = () => {},
  ) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError("bus capacity must be a positive integer");
  }

  publish(event: KernelEvent): void {
    if (this.closed) return;
    for (const subscriber of this.subscribers) subscriber.deliver(event);
  }

  subscribe(): Subscription {
    const subscription = new Subscription(this.capacity, this.onDrop, (s) => this.subscribers.delete(s));
    if (this.closed) subscription.close();
    else this.subscribers.add(subscription);
    return subscription;
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /** Ends every subscription once its queued events have been read. */
  close(): void {
    this.closed = true;
    for (const subscriber of [...this.subscribers]) subscriber.close();
  }
}

/** One subscriber's queue, for one reader: read with `next()`, `take()` or `for await`. */
export class Subscription implements AsyncIterable<KernelEvent> {
  /** A ring of `capacity` slots: `head` is the oldest event, `size` how many are queued. */
  private readonly ring: Array<KernelEvent | undefined>;
  private head = 0;
  private size = 0;
  private waiter: ((event: KernelEvent | undefined) => void) | undefined;
  private ended = false;
  /** Events this subscriber lost to overflow. */
  dropped = 0;

  constructor(
    private readonly capacity: number,
    private readonly onDrop: () => void,
    private readonly onClose: (s: Subscription) => void,
  ) {
    this.ring = new Array(capacity);
  }

  get queued(): number {
    return this.size;
  }

  deliver(event: KernelEvent): void {
    if (this.ended) return;
    if (this.waiter) {
      const wake = this.waiter;
      this.waiter = undefined;
      return wake(event);
    }
    if (this.size === this.capacity) {
      this.head = (this.head + 1) % this.capacity;
      this.size--;
      this.dropped++;
      this.onDrop();
    }
    this.ring[(this.head + this.size) % this.capacity] = event;
    this.size++;
  }

  /** The oldest queued event, waiting for one if none is queued; undefined once closed and empty. */
  next(): Promise<KernelEvent | undefined> {
    const event = this.take();
    if (event || this.ended) return Promise.resolve(event);
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  /** The oldest queued event without waiting. */
  take(): KernelEvent | undefined {
    if (this.size === 0) return undefined;
    const event = this.ring[this.head];
    this.ring[this.head] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.size--;
    return event;
  }

  close(): void {
    if (this.ended) return;
    this.ended = true;
    this.onClose(this);
    const wake = this.waiter;
    this.waiter = undefined;
    wake?.(undefined);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<KernelEvent> {
    for (let event = await this.next(); event; event = await this.next()) yield event;
  }
}
