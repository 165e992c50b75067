import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/mailbox/clock.js";
import { AckedRemovals, type MessageRemover } from "../../src/mailbox/jetstream-acked-removals.js";

/**
 * The scheduling of removals on its own, over a stream stand-in that records what it was
 * asked to remove (the NATS side is in jetstream-engine.test.ts, on a real cluster).
 */
class RecordingStream implements MessageRemover {
  readonly calls: string[] = [];

  async purgeBelow(subject: string, floor: number): Promise<void> {
    this.calls.push(`purge ${subject} <${floor}`);
  }

  async removeOne(seq: number): Promise<void> {
    this.calls.push(`remove ${seq}`);
  }
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe("acked removals", () => {
  it("purges once below the floor for a round of acks, and removes a hole alone after the hold", async () => {
    const clock = new ManualClock();
    const stream = new RecordingStream();
    const removals = new AckedRemovals(stream, clock, 1000);
    // 1 and 2 acked while 3 is out (floor 3); 4 acked above the floor is a hole.
    await Promise.all([removals.acked("s", 1, 3), removals.acked("s", 2, 3), removals.acked("s", 4, 3)]);
    expect(stream.calls).toEqual(["purge s <3"]);
    const { pending } = await removals.counting(async () => undefined);
    expect(pending.get("s")).toBe(1);
    clock.advance(1000);
    await expect.poll(() => stream.calls).toEqual(["purge s <3", "remove 4"]);
    expect((await removals.counting(async () => undefined)).pending.size).toBe(0);
    await removals.close();
  });

  it("never purges below sequence 1, which the server would take as the whole subject", async () => {
    const stream = new RecordingStream();
    const removals = new AckedRemovals(stream, new ManualClock(), 1000);
    await removals.acked("s", 2, 1);
    expect(stream.calls.filter((call) => call.startsWith("purge"))).toEqual([]);
    await removals.close();
  });

  it("lets removals held back by a count run before the next count, so counts cannot starve acks", async () => {
    const stream = new RecordingStream();
    const removals = new AckedRemovals(stream, new ManualClock(), 1000);
    const firstRead = deferred();
    const first = removals.counting(() => firstRead.promise);
    await Promise.resolve(); // the first count holds removals now
    const acked = removals.acked("s", 1, 2);
    let secondStarted = false;
    const second = removals.counting(async () => {
      secondStarted = true;
      // The ack's purge ran before this count began.
      expect(stream.calls).toEqual(["purge s <2"]);
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(stream.calls).toEqual([]); // held while the first count reads
    expect(secondStarted).toBe(false); // and the second waits for the removal to go first
    firstRead.resolve();
    await Promise.all([first, acked, second]);
    expect(secondStarted).toBe(true);
    expect(stream.calls).toEqual(["purge s <2"]);
    await removals.close();
  });

  it("counts an ack that comes in during a count's read as pending, since its bytes are still counted", async () => {
    const stream = new RecordingStream();
    const removals = new AckedRemovals(stream, new ManualClock(), 1000);
    let acked: Promise<void> | undefined;
    const { pending } = await removals.counting(async () => {
      acked = removals.acked("s", 5, 2); // a hole: stays pending
    });
    expect(pending.get("s")).toBe(1);
    await acked;
    await removals.close();
  });

  it("retries a failing removal after another hold, at most a round of them, and keeps the event loop free", async () => {
    const clock = new ManualClock();
    let removeCalls = 0;
    const failing: MessageRemover = {
      purgeBelow: async () => {},
      removeOne: async () => {
        removeCalls++;
        throw new Error("stream unavailable");
      },
    };
    const removals = new AckedRemovals(failing, clock, 1000);
    // 100 holes above a floor of 1 (message 1 still out).
    await Promise.all(Array.from({ length: 100 }, (_, i) => removals.acked("s", i + 2, 1)));
    await new Promise((resolve) => setTimeout(resolve, 10)); // the round after the acks is over
    clock.advance(1000);
    // Timers still run: the failing round did not spin.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(removeCalls).toBe(64);
    expect((await removals.counting(async () => undefined)).pending.get("s")).toBe(100);
    // The failures wait for another hold before they are tried again.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(removeCalls).toBe(64);
    await removals.close();
  });
});
