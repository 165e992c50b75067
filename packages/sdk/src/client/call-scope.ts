import { performance, type TimerHandle } from "./clock.js";
import { OapAbortError, type OapClientError, OapTimeoutError } from "./errors.js";

/** setTimeout fires at once for delays above this. */
export const MAX_TIMER_MS = 2_147_483_647;

/** What an open stream needs to know about its call's budget. */
export interface CallBudget {
  /** performance.now() at which the deadline passes (Infinity: none). */
  readonly deadlineAt: number;
  readonly deadlineMs: number;
  /** The caller's AbortSignal, if any. */
  readonly callerSignal: AbortSignal | undefined;
}

/** The budget of a stream outside any call (the HELLO): no deadline, no signal. */
export const NO_BUDGET: CallBudget = {
  deadlineAt: Number.POSITIVE_INFINITY,
  deadlineMs: Number.POSITIVE_INFINITY,
  callerSignal: undefined,
};

/**
 * The budget of one call: its deadline, the caller's AbortSignal and the client's lifetime.
 *
 * Making one costs a clock read and nothing else: no AbortController, timer or listener. An
 * EventTarget listener alone costs more than a whole small request, so those exist only while
 * the call waits outside a connection (for the connection, a slot or a backoff; see `wait()`).
 * Once its stream is open, the connection enforces the deadline with one timer for all its
 * streams, and the stream listens to the caller's signal only if there is one.
 */
export class CallScope implements CallBudget {
  readonly deadlineAt: number;
  private ended: OapClientError | undefined;

  /**
   * @param callerSignal the caller's AbortSignal (ends the call with OapAbortError)
   * @param clientSignal aborted with an OapClientError when the client closes
   */
  constructor(
    readonly deadlineMs: number,
    readonly callerSignal: AbortSignal | undefined,
    private readonly clientSignal: AbortSignal | undefined,
  ) {
    if (!(deadlineMs > 0)) throw new RangeError(`deadlineMs must be positive, got ${deadlineMs}`);
    this.deadlineAt = performance.now() + deadlineMs;
  }

  /** ms left before the deadline (Infinity when there is none; 0 once it passed). */
  remainingMs(): number {
    return Math.max(0, this.deadlineAt - performance.now());
  }

  /** The error the call ends with, once the client closed, the caller aborted or the deadline passed. */
  get error(): OapClientError | undefined {
    if (this.ended) return this.ended;
    if (this.clientSignal?.aborted) this.ended = this.clientSignal.reason as OapClientError;
    else if (this.callerSignal?.aborted) this.ended = callerAbortError(this.callerSignal);
    else if (this.deadlineAt <= performance.now()) this.ended = this.timeoutError();
    return this.ended;
  }

  /**
   * One wait of the call outside a connection, bounded by its budget. `start` begins the wait
   * and gets a signal that aborts (with the call's error as reason) when the deadline passes,
   * the caller aborts or the client closes; the wait then rejects with that error. The timer
   * and listeners live only as long as the wait.
   */
  wait<T>(start: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const error = this.error;
    if (error) return Promise.reject(error);
    const { callerSignal, clientSignal } = this;
    return new Promise<T>((resolve, reject) => {
      const controller = new AbortController();
      let timer: TimerHandle | undefined;
      const onCallerAbort = () => end(callerAbortError(callerSignal as AbortSignal));
      const onClientClose = () => end(clientSignal?.reason as OapClientError);
      const detach = () => {
        clearTimeout(timer);
        callerSignal?.removeEventListener("abort", onCallerAbort);
        clientSignal?.removeEventListener("abort", onClientClose);
      };
      const end = (reason: OapClientError) => {
        this.ended ??= reason;
        detach();
        controller.abort(this.ended);
        reject(this.ended);
      };
      const arm = () => {
        const left = this.deadlineAt - performance.now();
        if (left <= 0) end(this.timeoutError());
        else timer = setTimeout(arm, Math.min(Math.ceil(left), MAX_TIMER_MS));
      };
      callerSignal?.addEventListener("abort", onCallerAbort, { once: true });
      clientSignal?.addEventListener("abort", onClientClose, { once: true });
      if (Number.isFinite(this.deadlineAt)) arm();
      let waiting: Promise<T>;
      try {
        waiting = start(controller.signal);
      } catch (err) {
        detach();
        reject(err);
        return;
      }
      waiting.then(
        (value) => {
          detach();
          resolve(value);
        },
        (err: unknown) => {
          detach();
          reject(err);
        },
      );
    });
  }

  /** Waits `ms`, or rejects with the call's error if its budget ends first. */
  sleep(ms: number): Promise<void> {
    return this.wait(
      (signal) =>
        new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, ms);
          signal.addEventListener("abort", () => clearTimeout(timer), { once: true });
        }),
    );
  }

  private timeoutError(): OapTimeoutError {
    return new OapTimeoutError(`deadline of ${this.deadlineMs} ms expired`);
  }
}

/** What a call whose signal fired rejects with. */
export function callerAbortError(signal: AbortSignal, corrId?: bigint): OapAbortError {
  return new OapAbortError("the call was aborted by its signal", corrId, signal.reason);
}
