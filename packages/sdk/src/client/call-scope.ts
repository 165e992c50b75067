import { setMaxListeners } from "node:events";
import { performance } from "node:perf_hooks";
import { OapAbortError, type OapClientError, OapTimeoutError } from "./errors.js";

/** setTimeout fires at once for delays above this. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * The budget of one call: its deadline and the caller's AbortSignal folded into one internal
 * signal whose reason is the OapTimeoutError or OapAbortError the call then rejects with.
 * Every wait of the call (connect, inflight slot, response, backoff) races this signal.
 */
export class CallScope {
  readonly signal: AbortSignal;
  /** performance.now() at which the deadline expires (Infinity: none). */
  readonly deadlineAt: number;
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private readonly callerSignal: AbortSignal | undefined;
  private readonly clientSignal: AbortSignal | undefined;
  private readonly onCallerAbort = () => {
    this.end(new OapAbortError("the call was aborted by its signal", undefined, this.callerSignal?.reason));
  };
  private readonly onClientClose = () => {
    this.end(this.clientSignal?.reason as OapClientError);
  };

  /**
   * @param callerSignal the caller's AbortSignal (ends the call with OapAbortError)
   * @param clientSignal aborted with an OapClientError when the client closes
   */
  constructor(
    readonly deadlineMs: number,
    callerSignal?: AbortSignal,
    clientSignal?: AbortSignal,
  ) {
    if (!(deadlineMs > 0)) throw new RangeError(`deadlineMs must be positive, got ${deadlineMs}`);
    this.signal = this.controller.signal;
    // Each concurrent wait of the call (connect, slot, response) listens on it.
    setMaxListeners(0, this.signal);
    this.deadlineAt = performance.now() + deadlineMs;
    this.callerSignal = callerSignal;
    this.clientSignal = clientSignal;
    if (clientSignal?.aborted) {
      this.onClientClose();
      return;
    }
    if (callerSignal?.aborted) {
      this.onCallerAbort();
      return;
    }
    callerSignal?.addEventListener("abort", this.onCallerAbort, { once: true });
    clientSignal?.addEventListener("abort", this.onClientClose, { once: true });
    if (Number.isFinite(deadlineMs)) this.arm();
  }

  /** ms left before the deadline (Infinity when there is none; 0 once it passed). */
  remainingMs(): number {
    return Math.max(0, this.deadlineAt - performance.now());
  }

  /** The error the call ends with, once the deadline passed or the caller aborted. */
  get error(): OapClientError | undefined {
    return this.signal.aborted ? (this.signal.reason as OapClientError) : undefined;
  }

  throwIfEnded(): void {
    const error = this.error;
    if (error) throw error;
  }

  /** Settles like `promise`, or rejects with the scope's error if that comes first. */
  race<T>(promise: Promise<T>): Promise<T> {
    const error = this.error;
    if (error) {
      promise.catch(() => {});
      return Promise.reject(error);
    }
    return new Promise<T>((resolve, reject) => {
      const onEnd = () => reject(this.signal.reason);
      this.signal.addEventListener("abort", onEnd, { once: true });
      promise.then(
        (value) => {
          this.signal.removeEventListener("abort", onEnd);
          resolve(value);
        },
        (err: unknown) => {
          this.signal.removeEventListener("abort", onEnd);
          reject(err);
        },
      );
    });
  }

  /** Waits `ms`, or rejects with the scope's error if it ends first. */
  sleep(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const slept = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    });
    return this.race(slept).finally(() => clearTimeout(timer));
  }

  /** Calls `listener` with the scope's error when it ends (at once if it has); returns the detach. */
  onEnd(listener: (error: OapClientError) => void): () => void {
    const error = this.error;
    if (error) {
      listener(error);
      return () => {};
    }
    const onAbort = () => listener(this.signal.reason as OapClientError);
    this.signal.addEventListener("abort", onAbort, { once: true });
    return () => this.signal.removeEventListener("abort", onAbort);
  }

  /** Stops the deadline timer and detaches from the caller's signal. */
  dispose(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.callerSignal?.removeEventListener("abort", this.onCallerAbort);
    this.clientSignal?.removeEventListener("abort", this.onClientClose);
  }

  private arm(): void {
    const left = this.deadlineAt - performance.now();
    if (left <= 0) {
      this.end(new OapTimeoutError(`deadline of ${this.deadlineMs} ms expired`));
      return;
    }
    this.timer = setTimeout(() => this.arm(), Math.min(Math.ceil(left), MAX_TIMER_MS));
  }

  private end(error: OapClientError): void {
    if (this.signal.aborted) return;
    this.dispose();
    this.controller.abort(error);
  }
}
