import { describe, expect, it } from "vitest";
import { restartDelay } from "../src/kernel/backoff.js";
import { KernelBus } from "../src/kernel/bus.js";
import type { KernelEvent } from "../src/kernel/events.js";

const health = (n: number): KernelEvent => ({ kind: "Health", service: `s${n}`, ok: true });

describe("kernel bus", () => {
  it("delivers every event to every subscriber in order", async () => {
    const bus = new KernelBus(8);
    const a = bus.subscribe();
    const b = bus.subscribe();
    const events: KernelEvent[] = [
      { kind: "ConfigUpdated", version: 1 },
      { kind: "ServiceCrashed", service: "echo", reason: "Error: x" },
      { kind: "Shutdown" },
    ];
    for (const event of events) bus.publish(event);
    bus.close();
    const read = async (s: AsyncIterable<KernelEvent>) => {
      const seen: KernelEvent[] = [];
      for await (const event of s) seen.push(event);
      return seen;
    };
    expect(await read(a)).toEqual(events);
    expect(await read(b)).toEqual(events);
  });

  it("wakes a waiting subscriber", async () => {
    const bus = new KernelBus(2);
    const sub = bus.subscribe();
    const next = sub.next();
    bus.publish({ kind: "Shutdown" });
    expect(await next).toEqual({ kind: "Shutdown" });
  });

  it("drops the oldest events of a slow subscriber only, and counts them", () => {
    let dropped = 0;
    const bus = new KernelBus(4, () => dropped++);
    const slow = bus.subscribe();
    const fast = bus.subscribe();
    const fastSeen: KernelEvent[] = [];
    for (let i = 0; i < 10; i++) {
      bus.publish(health(i));
      const event = fast.take();
      if (event) fastSeen.push(event);
    }
    expect(fastSeen).toHaveLength(10);
    expect(slow.queued).toBe(4);
    expect(slow.dropped).toBe(6);
    expect(dropped).toBe(6);
    expect([slow.take(), slow.take(), slow.take(), slow.take(), slow.take()]).toEqual([
      health(6),
      health(7),
      health(8),
      health(9),
      undefined,
    ]);
  });

  it("keeps memory bounded for a subscriber that never reads", () => {
    let dropped = 0;
    const bus = new KernelBus(16, () => dropped++);
    const stuck = bus.subscribe();
    for (let i = 0; i < 100_000; i++) bus.publish(health(i));
    expect(stuck.queued).toBe(16);
    expect(dropped).toBe(100_000 - 16);
  });

  it("forgets closed subscribers and ends iteration", async () => {
    const bus = new KernelBus(4);
    const sub = bus.subscribe();
    expect(bus.subscriberCount).toBe(1);
    const waiting = sub.next();
    sub.close();
    expect(await waiting).toBeUndefined();
    expect(bus.subscriberCount).toBe(0);
    bus.publish({ kind: "Shutdown" });
    expect(sub.take()).toBeUndefined();
  });
});

describe("restart backoff", () => {
  it("grows exponentially from the initial delay to the cap, jittered within the upper half", () => {
    const low = () => 0;
    const high = () => 0.999999;
    expect(restartDelay(1, 100, 30_000, low)).toBe(50);
    expect(restartDelay(1, 100, 30_000, high)).toBe(100);
    expect(restartDelay(4, 100, 30_000, high)).toBe(800);
    expect(restartDelay(20, 100, 30_000, low)).toBe(15_000);
    expect(restartDelay(20, 100, 30_000, high)).toBe(30_000);
    for (let attempt = 1; attempt < 30; attempt++) {
      const d = restartDelay(attempt, 100, 30_000);
      expect(d).toBeGreaterThanOrEqual(50);
      expect(d).toBeLessThanOrEqual(30_000);
    }
  });
});
