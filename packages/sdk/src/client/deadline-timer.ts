import { MAX_TIMER_MS } from "./call-scope.js";
import { performance, type TimerHandle, unrefTimer } from "./clock.js";

/**
 * One timer for the deadlines of every stream open on a connection, armed for the earliest.
 *
 * Calls on a connection mostly share one deadline length, so a new stream's deadline is
 * rarely earlier than the one armed: opening a stream costs a comparison, not a timer (a
 * timer per call costs as much as the rest of a small request). When the timer fires, the
 * connection fails the streams whose deadline passed and the timer is armed for the earliest
 * deadline left — about once per deadline length under steady load.
 */
export class DeadlineTimer {
  private timer: TimerHandle | undefined;
  /** The deadline the timer is armed for (Infinity: not armed). */
  private armedFor = Number.POSITIVE_INFINITY;

  /**
   * @param sweep fails the streams whose deadline is at or before `now` and returns the
   *   earliest deadline among the others (Infinity: none)
   */
  constructor(private readonly sweep: (now: number) => number) {}

  /** A stream with this deadline (performance.now() time; Infinity: none) was opened. */
  watch(deadlineAt: number): void {
    if (deadlineAt < this.armedFor) this.arm(deadlineAt);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
  }

  private arm(deadlineAt: number): void {
    clearTimeout(this.timer);
    this.armedFor = deadlineAt;
    const delay = Math.min(Math.max(0, Math.ceil(deadlineAt - performance.now())), MAX_TIMER_MS);
    this.timer = setTimeout(this.fire, delay);
    // The socket keeps the process alive while streams are open; this timer need not.
    unrefTimer(this.timer);
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
    const next = this.sweep(performance.now());
    if (next < this.armedFor) this.arm(next);
  };
}
