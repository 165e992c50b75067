/**
 * Every call of the workload is tracked until it settles and counted once in the Tally (see
 * tally.ts for the classes), marked "during injected fault" when its span overlapped a fault
 * window of a dependency it uses.
 *
 * The watchdog: a call that has not settled by deadline + grace is counted hung (`no_settle`).
 * A call that makes more round trips on purpose (a storage stream refused with 401 after a
 * revocation: an echo to refresh the capability, then the resend, each with its own deadline)
 * calls `extend(2)` when the 401 comes, and its watchdog then fires 2 deadlines + grace after
 * that moment: a slow but correct resend is not counted hung, a resend that hangs still is.
 * A call therefore takes at most MAX_ROUND_TRIPS deadlines + grace before it is counted.
 */
import type { Dependency, FaultLog } from "./faults.js";
import { classify, type Outcome, type Tally } from "./tally.js";

/** Round trips one tracked call may make at most (first try, capability refresh, resend). */
export const MAX_ROUND_TRIPS = 3;

/** Which dependency each op uses: a request overlapping one of its fault windows is "during injected fault". */
export const DEPENDENCIES: Record<string, readonly Dependency[]> = {
  echo: [],
  app: ["backend"],
  "mailbox.send": ["redis"],
  "mailbox.recv": ["redis"],
  "mailbox.ack": ["redis"],
  "mailbox.sub_ack": ["redis"],
  "storage.put": [],
  "storage.get": [],
  "cap.revoke": [],
};

/** Handle of one tracked call. */
export interface Call {
  /** `roundTrips` more round trips start now, each with its own deadline: re-arms the watchdog to cover them. */
  extend(roundTrips: number): void;
}

export type CallFn = (call: Call) => Promise<unknown>;

/** What the op implementations get from the workload. */
export interface OpContext {
  readonly seed: number;
  readonly deadlineMs: number;
  random(): number;
  /** Counts a wrong body and returns the error to throw (classified failed, `body_mismatch`). */
  mismatch(message: string): Error;
  /** Tracks another call (the ACK of a message a RECV or the subscription delivered). */
  track(op: string, fn: CallFn): void;
}

export interface CallTrackerOptions {
  tally: Tally;
  faults: FaultLog;
  now: () => number;
  deadlineMs: number;
  /** A call not settled by (its round trips ×) deadline + this is counted hung by the watchdog. */
  hangGraceMs: number;
}

export class CallTracker {
  outstanding = 0;
  private readonly open = new Set<Promise<void>>();

  constructor(private readonly o: CallTrackerOptions) {}

  /** Calls `fn`, counts how it ended; the watchdog counts it hung if it has not settled in time. */
  track(op: string, fn: CallFn): void {
    const start = this.o.now();
    const deps = DEPENDENCIES[op] ?? [];
    this.outstanding++;
    let counted = false;
    const count = (outcome: Outcome, reason?: string) => {
      if (counted) return;
      counted = true;
      const end = this.o.now();
      const inFault = this.o.faults.overlaps(deps, start, end);
      this.o.tally.add(op, outcome, inFault, end, reason);
      if (outcome === "success") this.o.faults.noteSuccess(deps, start, end);
    };
    let watchdogFired = false;
    const arm = (roundTrips: number) =>
      setTimeout(
        () => {
          watchdogFired = true;
          count("hung", "no_settle");
        },
        roundTrips * this.o.deadlineMs + this.o.hangGraceMs,
      );
    let watchdog = arm(1);
    const call: Call = {
      extend: (roundTrips) => {
        if (counted) return;
        clearTimeout(watchdog);
        watchdog = arm(roundTrips);
      },
    };
    const p: Promise<void> = fn(call)
      .then(
        () => count("success"),
        (err: unknown) => {
          const c = classify(err);
          count(c.outcome, c.reason);
        },
      )
      .finally(() => {
        if (watchdogFired) this.o.tally.lateSettles++;
        clearTimeout(watchdog);
        this.outstanding--;
        this.open.delete(p);
      });
    this.open.add(p);
  }

  /**
   * Waits for the calls still open (calls they start meanwhile, e.g. ACKs, included), but no
   * longer than a call may take before the watchdog counts it hung.
   */
  async drain(): Promise<void> {
    const until = this.o.now() + MAX_ROUND_TRIPS * this.o.deadlineMs + this.o.hangGraceMs + 1_000;
    while (this.open.size > 0 && this.o.now() < until) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...this.open]),
        new Promise((resolve) => {
          timer = setTimeout(resolve, Math.max(1, until - this.o.now()));
        }),
      ]);
      clearTimeout(timer);
    }
  }
}
