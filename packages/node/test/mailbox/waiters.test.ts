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

  it("waits for the next lease expiry or pollMs, looks again each time, and answers nothing at its deadline", async () => {
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

  it("answers after one look when the RECV was aborted or the engine closed before it", async () => {
    const clock = new ManualClock();
    const waiters = new TopicWaiters(clock);
    let looks = 0;
    const lookOnce = async () => {
      if (++looks > 1) throw new Error("looked again");
      return NOTHING;
    };
    const aborted = AbortSignal.abort();
    expect(
      await waiters.longPoll(KEY, { waitMs: 60_000, signal: aborted, closed: () => false, look: lookOnce }),
    ).toEqual([]);
    expect(looks).toBe(1);
    looks = 0;
    expect(
      await waiters.longPoll(KEY, { waitMs: 60_000, signal: undefined, closed: () => true, look: lookOnce }),
    ).toEqual([]);
    expect(looks).toBe(1);
  });

  it("ends a wait on an abort or on the engine closing, without leasing again", async () => {
    const clock = new ManualClock();
    const waiters = new TopicWaiters(clock);
    const controller = new AbortController();
    let looks = 0;
    let closed = false;
    const look = async () => {
      looks++;
      return NOTHING;
    };
    const aborted = waiters.longPoll(KEY, {
      waitMs: 60_000,
      signal: controller.signal,
      closed: () => false,
      look,
    });
    const closing = waiters.longPoll(topicKey("t1", "other"), {
      waitMs: 60_000,
      signal: undefined,
      closed: () => closed,
      look,
    });
    await settle();
    expect(looks).toBe(2);
    controller.abort();
    closed = true;
    waiters.wakeAll(); // what an engine does when it closes
    expect(await aborted).toEqual([]);
    expect(await closing).toEqual([]);
    // Neither looked again: a look after the abort could lease messages nobody receives.
    expect(looks).toBe(2);
    expect(waiters.watchedTopics).toBe(0);
  });

  it("stops listening and forgets the topic when a look fails", async () => {
    const clock = new ManualClock();
    const waiters = new TopicWaiters(clock);
    let listening = 0;
    let looks = 0;
    const poll = waiters.longPoll(KEY, {
      waitMs: 60_000,
      signal: undefined,
      closed: () => false,
      pollMs: 1_000,
      look: async () => {
        if (++looks === 2) throw new Error("the store went away");
        return NOTHING;
      },
      listen: () => {
        listening++;
        return () => listening--;
      },
    });
    // Handled from the start: the rejection comes before the assertions below look at it.
    const outcome = poll.then(
      () => "resolved",
      (error: Error) => error.message,
    );
    await settle();
    expect(listening).toBe(1);
    clock.advance(1_000);
    await settle();
    expect(looks).toBe(2);
    expect(await outcome).toBe("the store went away");
    expect(listening).toBe(0);
    expect(waiters.watchedTopics).toBe(0);
  });

  it("still hears a wake-up during one poll's look after another poll of the topic ended", async () => {
    const clock = new ManualClock();
    const waiters = new TopicWaiters(clock);
    let finishFirstLook = (_look: TopicLook) => {};
    const first = waiters.longPoll(KEY, {
      waitMs: 0,
      signal: undefined,
      closed: () => false,
      look: () => new Promise<TopicLook>((resolve) => (finishFirstLook = resolve)),
    });
    let finishSecondLook = (_look: TopicLook) => {};
    let secondLooks = 0;
    const second = waiters.longPoll(KEY, {
      waitMs: 10_000,
      signal: undefined,
      closed: () => false,
      look: () => {
        secondLooks++;
        return secondLooks === 1
          ? new Promise<TopicLook>((resolve) => (finishSecondLook = resolve))
          : Promise.resolve(ONE);
      },
    });
    await settle();
    // The first poll ends while the second one's look is out; then a send lands.
    finishFirstLook(NOTHING);
    expect(await first).toEqual([]);
    waiters.wake(KEY);
    finishSecondLook(NOTHING);
    await settle();
    // The second poll looked again at once, without waiting for its deadline.
    expect(secondLooks).toBe(2);
    expect(await second).toEqual(ONE.deliveries);
  });
});
