import {
  encodePadFrame,
  PAD_FRAME_MIN,
  type PaddingScheme,
  paddedBurstLength,
  padFrameLengths,
} from "./padding.js";
import type { ByteSink } from "./writer.js";

/** A ByteSink over a byte stream (a TLS socket): what a ShapingSink wraps. */
export interface StreamSink extends ByteSink {
  /** Bytes handed to write() that the stream has not finished writing. */
  readonly writableLength: number;
  /** True once end() was called: nothing more may be written. */
  readonly writableEnded: boolean;
  /**
   * A socket's readable side ending (the peer's FIN): a socket that is not half-open ends its
   * own side from an `end` listener, so the sink must release what it holds before that one.
   */
  prependListener?(event: "end", listener: () => void): unknown;
}

/** What one side applies to its own sends on a connection (specs/oap-1.md §10.1). */
export interface ShapingSettings {
  padding: PaddingScheme;
  /** Bursts are held a uniformly random 0..jitterMs ms; 0 = written at once. */
  jitterMs: number;
  /** Mean cover bursts per second; 0 = none. */
  coverHz: number;
  /** Cover bursts are drawn from PAD_FRAME_MIN..coverMaxBytes bytes before padding. */
  coverMaxBytes: number;
  /** No PAD frame is longer than this: the max_frame the peer accepts. */
  maxFrame: number;
}

/** The timers a ShapingSink runs on; tests pass their own to fire them by hand. */
export interface ShapingTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Told about each burst that carried PAD frames, for metrics. */
export type ShapingObserver = (padBytes: number, padFrames: number, cover: boolean) => void;

export interface ShapingSinkOptions {
  /** Uniform in [0, 1); default: the platform's CSPRNG. */
  random?: () => number;
  timers?: ShapingTimers;
  observer?: ShapingObserver;
  /** A held burst this large is written at once, jitter or not (default SHAPING_HOLD_LIMIT). */
  holdLimitBytes?: number;
}

/** Held bytes past which a burst is written without waiting: bounds memory per connection. */
export const SHAPING_HOLD_LIMIT = 256 * 1024;

type WriteCallback = (error?: Error | null) => void;

/**
 * Shapes what a FrameWriter sends (specs/oap-1.md §10.1). A *burst* is one write, or one
 * corked group of writes, handed to this sink; each goes to the stream as one corked group
 * (one TLS write) with PAD frames appended so its length is a bucket size. With jitter, a
 * burst is held for a random delay from its first byte and everything written meanwhile joins
 * it; with cover traffic, PAD-only bursts are added at exponential intervals.
 *
 * A burst is also held while the stream is still writing the previous one: the stream would
 * otherwise join the two in one TLS write, whose length is a sum of buckets, not a bucket.
 *
 * Write callbacks run when the stream has written the bytes, or when the connection closes.
 * Backpressure is the stream's: writableNeedDrain and `drain` are passed through.
 */
export class ShapingSink implements ByteSink {
  private chunks: Buffer[] = [];
  private callbacks: Array<WriteCallback | undefined> = [];
  private heldBytes = 0;
  /** PAD bytes owed to cover bursts, sent with the next burst. */
  private coverBytes = 0;
  private corks = 0;
  /** The held burst may go as soon as the stream is free: its jitter has passed, or there is none. */
  private ready = false;
  private jitterTimer: unknown;
  private coverTimer: unknown;
  /** Bursts of ours the stream has not called back for. */
  private burstsInFlight = 0;
  /** Released or closed: writes pass straight through. */
  private stopped = false;
  private readonly random: () => number;
  private readonly timers: ShapingTimers;
  private readonly observer: ShapingObserver | undefined;
  private readonly holdLimit: number;

  constructor(
    private readonly inner: StreamSink,
    private readonly settings: ShapingSettings,
    options: ShapingSinkOptions = {},
  ) {
    if (settings.maxFrame < 2 * PAD_FRAME_MIN)
      throw new RangeError(`maxFrame ${settings.maxFrame} is too small`);
    this.random = options.random ?? secureRandom;
    this.timers = options.timers ?? UNREF_TIMERS;
    this.observer = options.observer;
    this.holdLimit = options.holdLimitBytes ?? SHAPING_HOLD_LIMIT;
    inner.once("close", this.onClose);
    inner.prependListener?.("end", this.onPeerEnd);
    if (settings.coverHz > 0) this.scheduleCover();
  }

  get writableNeedDrain(): boolean {
    return this.inner.writableNeedDrain;
  }

  /** Data bytes held for the current burst, not yet handed to the stream (at most the hold limit). */
  get bytesHeld(): number {
    return this.heldBytes;
  }

  get destroyed(): boolean {
    return this.inner.destroyed;
  }

  on(event: "drain" | "close", listener: () => void): this {
    this.inner.on(event, listener);
    return this;
  }

  once(event: "close", listener: () => void): this {
    this.inner.once(event, listener);
    return this;
  }

  off(event: "drain" | "close", listener: () => void): this {
    this.inner.off(event, listener);
    return this;
  }

  write(chunk: Buffer, callback?: WriteCallback): boolean {
    if (this.stopped) return this.inner.write(chunk, callback);
    this.chunks.push(chunk);
    this.callbacks.push(callback);
    this.heldBytes += chunk.length;
    if (this.corks === 0) this.burstAdded();
    return !this.inner.writableNeedDrain;
  }

  cork(): void {
    if (this.stopped) this.inner.cork();
    else this.corks++;
  }

  uncork(): void {
    if (this.stopped) return this.inner.uncork();
    if (this.corks === 0) return;
    this.corks--;
    if (this.corks === 0 && this.heldBytes > 0) this.burstAdded();
  }

  /**
   * The connection is about to end (or to change its shaping): writes what is held now and
   * stops the timers; later writes go straight to the stream.
   */
  release(): void {
    if (this.stopped) return;
    this.emit();
    this.stop();
  }

  /** A write or a corked group of writes was added to the held burst. */
  private burstAdded(): void {
    if (this.heldBytes >= this.holdLimit) return this.emit();
    if (this.settings.jitterMs > 0 && !this.ready) {
      this.jitterTimer ??= this.timers.setTimeout(this.jitterPassed, this.random() * this.settings.jitterMs);
      return;
    }
    this.ready = true;
    this.emitWhenFree();
  }

  private readonly jitterPassed = (): void => {
    this.jitterTimer = undefined;
    this.ready = true;
    this.emitWhenFree();
  };

  private emitWhenFree(): void {
    // Written synchronously, a write leaves writableLength at 0 even before its callback.
    if (this.ready && !(this.burstsInFlight > 0 && this.inner.writableLength > 0)) this.emit();
  }

  /** Writes the held burst with its padding as one corked group. */
  private emit(): void {
    if (this.jitterTimer !== undefined) {
      this.timers.clearTimeout(this.jitterTimer);
      this.jitterTimer = undefined;
    }
    this.ready = false;
    const { chunks, callbacks, heldBytes: data, coverBytes: cover } = this;
    if (data === 0 && cover === 0) return;
    this.chunks = [];
    this.callbacks = [];
    this.heldBytes = 0;
    this.coverBytes = 0;
    const inner = this.inner;
    if (inner.destroyed || inner.writableEnded) {
      for (const callback of callbacks) callback?.();
      return;
    }
    const pads = padFrameLengths(
      paddedBurstLength(data, this.settings.padding, cover) - data,
      this.settings.maxFrame,
    );
    const writes = chunks.length + pads.length;
    this.burstsInFlight++;
    if (writes > 1) inner.cork();
    let written = 0;
    for (let i = 0; i < chunks.length; i++) {
      const callback = ++written === writes ? this.lastCallback(callbacks[i]) : callbacks[i];
      inner.write(chunks[i] as Buffer, callback);
    }
    let padBytes = 0;
    for (const length of pads) {
      padBytes += length;
      inner.write(encodePadFrame(length), ++written === writes ? this.lastCallback(undefined) : undefined);
    }
    if (writes > 1) inner.uncork();
    if (pads.length > 0) this.observer?.(padBytes, pads.length, cover > 0);
  }

  /** The callback of a burst's last write: the stream is done with the burst, the next may go. */
  private lastCallback(callback: WriteCallback | undefined): WriteCallback {
    return (error) => {
      this.burstsInFlight--;
      callback?.(error);
      if (!this.stopped) this.emitWhenFree();
    };
  }

  private scheduleCover(): void {
    // Exponential gaps: a Poisson process of rate coverHz, so one gap tells nothing of the next.
    const gapMs = (-Math.log(1 - this.random()) / this.settings.coverHz) * 1000;
    this.coverTimer = this.timers.setTimeout(this.coverDue, gapMs);
  }

  private readonly coverDue = (): void => {
    this.coverTimer = undefined;
    if (this.stopped) return;
    // A peer that does not read gets no cover: it would only pile up in the socket's buffer.
    if (this.inner.writableNeedDrain) return this.scheduleCover();
    const span = Math.max(0, this.settings.coverMaxBytes - PAD_FRAME_MIN);
    this.coverBytes += PAD_FRAME_MIN + Math.floor(this.random() * (span + 1));
    // A burst under its jitter delay takes the cover bytes along when it goes.
    if (this.jitterTimer === undefined) {
      this.ready = true;
      this.emitWhenFree();
    }
    this.scheduleCover();
  };

  /** The peer half-closed: what is held goes out now, before the socket ends its own side. */
  private readonly onPeerEnd = (): void => {
    this.release();
  };

  private readonly onClose = (): void => {
    const callbacks = this.callbacks;
    this.chunks = [];
    this.callbacks = [];
    this.heldBytes = 0;
    this.coverBytes = 0;
    this.stop();
    for (const callback of callbacks) callback?.();
  };

  private stop(): void {
    this.stopped = true;
    this.corks = 0;
    this.ready = false;
    for (const timer of [this.jitterTimer, this.coverTimer]) {
      if (timer !== undefined) this.timers.clearTimeout(timer);
    }
    this.jitterTimer = undefined;
    this.coverTimer = undefined;
    this.inner.off("close", this.onClose);
  }
}

/** Timers that never keep a process alive: the connection's socket does that. */
const UNREF_TIMERS: ShapingTimers = {
  setTimeout(callback, ms) {
    const handle = setTimeout(callback, ms);
    (handle as { unref?: () => void }).unref?.();
    return handle;
  },
  clearTimeout(handle) {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};

const pool = new Uint32Array(64);
let poolAt = pool.length;

/**
 * Uniform in [0, 1) from the platform's CSPRNG: delays and cover sizes must not be predictable
 * from earlier ones, as Math.random's could be.
 */
function secureRandom(): number {
  if (poolAt === pool.length) {
    globalThis.crypto.getRandomValues(pool);
    poolAt = 0;
  }
  return (pool[poolAt++] as number) / 2 ** 32;
}
