/**
 * How every request of a soak run ended, counted once:
 *
 * - success: the call resolved (and the bytes it returned were the right ones);
 * - refused: the node refused it at admission with 429 or 503 and a retry_after_ms (not
 *   admitted). The soak's quotas are set so high that they never refuse, so a refusal outside
 *   an injected fault is a defect: summary.ts judges it (`no_refusals_outside_faults`);
 * - failed: admitted, then failed (any other error, a wrong body included);
 * - hung: no answer within its deadline (the SDK's own deadline fired with no reply from the
 *   node), or the call did not settle at all by deadline + grace (the harness's watchdog).
 *
 * Each is also marked "during injected fault" when the request overlapped a fault window of a
 * dependency it uses (see faults.ts).
 */
import { OapClientError, OapConnectionError, OapTimeoutError } from "@omnigate/sdk";

export type Outcome = "success" | "refused" | "failed" | "hung";
export const OUTCOMES: readonly Outcome[] = ["success", "refused", "failed", "hung"];

export interface Counts {
  success: number;
  refused: number;
  failed: number;
  hung: number;
}

export const zeroCounts = (): Counts => ({ success: 0, refused: 0, failed: 0, hung: 0 });

/** One bucket of counts: all requests, and those outside / during injected faults. */
export interface Split {
  all: Counts;
  clean: Counts;
  fault: Counts;
}

const zeroSplit = (): Split => ({ all: zeroCounts(), clean: zeroCounts(), fault: zeroCounts() });

/**
 * Successes over admitted (success + failed + hung); undefined when nothing was admitted.
 * Refused requests are not in it; they are judged on their own (`no_refusals_outside_faults`).
 */
export function availability(c: Counts): number | undefined {
  const admitted = c.success + c.failed + c.hung;
  return admitted === 0 ? undefined : c.success / admitted;
}

export function classify(error: unknown): { outcome: Outcome; reason: string } {
  if (error instanceof OapTimeoutError && /^deadline of/.test(error.message))
    return { outcome: "hung", reason: "client_deadline" };
  if (error instanceof OapClientError && !(error instanceof OapConnectionError)) {
    const reason = `${error.code} ${error.reason}`;
    if ((error.code === 429 || error.code === 503) && error.retryAfterMs !== undefined)
      return { outcome: "refused", reason };
    return { outcome: "failed", reason };
  }
  if (error instanceof OapClientError) return { outcome: "failed", reason: `${error.code} ${error.reason}` };
  return {
    outcome: "failed",
    reason: error instanceof Error ? `${error.name}: ${error.message}`.slice(0, 120) : String(error),
  };
}

export class Tally {
  /** Totals over the run, by op. */
  readonly byOp = new Map<string, Split>();
  /** Totals over the run. */
  readonly total: Split = zeroSplit();
  /** Since the last takeInterval(). */
  private interval: Split = zeroSplit();
  /** Why requests did not succeed: "op outcome reason [fault]" → count. */
  readonly reasons = new Map<string, number>();
  /** First occurrences of each reason, with the time, for the report. */
  readonly firstSeen = new Map<string, number>();
  /** Calls the watchdog counted as hung that settled later anyway. */
  lateSettles = 0;
  /** Arrivals not sent because the harness already had its maximum of calls outstanding. */
  shed = 0;

  add(op: string, outcome: Outcome, inFault: boolean, at: number, reason?: string): void {
    let split = this.byOp.get(op);
    if (!split) {
      split = zeroSplit();
      this.byOp.set(op, split);
    }
    for (const s of [split, this.total, this.interval]) {
      s.all[outcome]++;
      (inFault ? s.fault : s.clean)[outcome]++;
    }
    if (outcome !== "success") {
      const key = `${op} ${outcome} ${reason ?? "?"}${inFault ? " [during injected fault]" : ""}`;
      this.reasons.set(key, (this.reasons.get(key) ?? 0) + 1);
      if (!this.firstSeen.has(key)) this.firstSeen.set(key, at);
    }
  }

  takeInterval(): Split {
    const taken = this.interval;
    this.interval = zeroSplit();
    return taken;
  }
}

export function sum(c: Counts): number {
  return c.success + c.refused + c.failed + c.hung;
}
