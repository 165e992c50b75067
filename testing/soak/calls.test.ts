/**
 * The call tracker's watchdog on a fake clock: a call that extends its watchdog for a resend
 * is counted by how it ends, a call that never settles is counted hung.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { CallTracker } from "./calls.js";
import { FaultLog } from "./faults.js";
import { Tally } from "./tally.js";

const DEADLINE = 10_000;
const GRACE = 5_000;

describe("soak call tracker", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function tracker() {
    const tally = new Tally();
    const calls = new CallTracker({
      tally,
      faults: new FaultLog(3_000),
      now: () => Date.now(),
      deadlineMs: DEADLINE,
      hangGraceMs: GRACE,
    });
    return { tally, calls };
  }

  it("counts a slow resend after a 401 by how it ends, not as hung", async () => {
    const { tally, calls } = tracker();
    calls.track("storage.put", async (call) => {
      // First try answered 401 near its deadline, then refresh and resend, each near theirs.
      await new Promise((r) => setTimeout(r, DEADLINE - 1));
      call.extend(2);
      await new Promise((r) => setTimeout(r, 2 * DEADLINE - 2));
    });
    await vi.advanceTimersByTimeAsync(3 * DEADLINE);
    expect(tally.total.all).toMatchObject({ success: 1, hung: 0 });
    expect(tally.lateSettles).toBe(0);
    expect(calls.outstanding).toBe(0);
  });

  it("counts a call that never settles as hung, and a resend that never settles too", async () => {
    const { tally, calls } = tracker();
    calls.track("storage.get", () => new Promise(() => {}));
    calls.track("storage.get", async (call) => {
      call.extend(2);
      await new Promise(() => {});
    });
    await vi.advanceTimersByTimeAsync(2 * DEADLINE + GRACE + 1);
    expect(tally.total.all.hung).toBe(2);
    expect([...tally.reasons.keys()]).toEqual(["storage.get hung no_settle"]);
  });
});
