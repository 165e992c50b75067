import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/mailbox/clock.js";
import type { Delivery } from "../../src/mailbox/engine.js";
import { type TopicLook, TopicWaiters, topicKey } from "../../src/mailbox/waiters.js";

const KEY = topicKey("t1", "inbox");
const NOTHING: TopicLook = { deliveries: [], nextVisibleAt: undefined };
const ONE: TopicLook = { deliveries: [{ msgId: "m1" } as Delivery], nextVisibleAt: undefined };

/** Lets pending promise callbacks run (the poll's look and its wait are promises). */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("TopicWaiters.longPoll: RECV's long poll on every engine", () => {
  it("looks again at once when a wake-up came while a look was out", async () => {
    const clock = new ManualClock();
    const waiters = new TopicWaiters(clock);
    let looks = 0;
    const poll = waiters.longPoll(KEY, {
      waitMs: 10_000,
      signal: undefined,
      closed: () => false,
      look: async () => {
        looks++;
        // A send lands while the first look is out: its wake-up must not be lost.
        if (looks === 1) waiters.wake(KEY);
        return looks === 1 ? NOTHING : ONE;
      },
    });
    expect(await poll).toEqual(ONE.deliveries);
    expect(looks).toBe(2);
  });

  it("waits for a wake-up, the next lease expiry or pollMs, and answers nothing at its deadline", async () => {
    const clock = new ManualClock();
    const waiters = new TopicWaiters(clock);
    const lookedAt: number[] = [];
    const start = clock.now();
    let listening = 0;
    let result: Delivery[] | undefined;
    void waiters
      .longPoll(KEY, {
        waitMs: 2_500,
        signal: undefined,
        closed: () => false,
        pollMs: 1_000,
        look: async () => {
          lookedAt.push(clock.now() - start);
          // A lease of another consumer runs out 300 ms after the first look.
          return { deliveries: [], nextVisibleAt: lookedAt.length === 1 ? clock.now() + 300 : undefined };
        },
        listen: () => {
          listening++;
          return () => listening--;
        },
      })
      .then((found) => {
        result = found;
      });
    await settle();
    expect(listening).toBe(1);
    clock.advance(300); // the lease expiry
    await settle();
    clock.advance(1_000); // pollMs
    await settle();
    clock.advance(1_000); // pollMs again
    await settle();
    clock.advance(200); // the deadline: one last look
    await settle();
    expect(lookedAt).toEqual([0, 300, 1_300, 2_300, 2_500]);
    expect(result).toEqual([]);
    expect(listening).toBe(0);
  });

  it("keeps nothing per topic once its polls are over, however many topics were woken", async () => {
    const clock = new ManualClock();
    const waiters = new TopicWaiters(clock);
    for (let i = 0; i < 10_000; i++) waiters.wake(topicKey("t1", `topic-${i}`));
    expect(waiters.watchedTopics).toBe(0);
    const both = [0, 1].map(() =>
      waiters.longPoll(KEY, { waitMs: 0, signal: undefined, closed: () => false, look: async () => NOTHING }),
    );
    expect(waiters.watchedTopics).toBe(1);
    await Promise.all(both);
    expect(waiters.watchedTopics).toBe(0);
  });

  it("answers at once when the engine closed or the RECV was aborted", async () => {
    const clock = new ManualClock();
    const waiters = new TopicWaiters(clock);
    const aborted = AbortSignal.abort();
    const look = async () => NOTHING;
    expect(
      await waiters.longPoll(KEY, { waitMs: 60_000, signal: aborted, closed: () => false, look }),
    ).toEqual([]);
    expect(
      await waiters.longPoll(KEY, { waitMs: 60_000, signal: undefined, closed: () => true, look }),
    ).toEqual([]);
  });
});
