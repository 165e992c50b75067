import { describe, expect, it } from "vitest";
import { MinHeap } from "../../src/mailbox/sql/min-heap.js";
import { LEASED, QueueIndex } from "../../src/mailbox/sql/queue-index.js";

describe("MinHeap.retain", () => {
  it("keeps what it is asked to, still popping in order", () => {
    const heap = new MinHeap<number>((a, b) => a < b);
    const values = Array.from({ length: 5000 }, (_, i) => (i * 7919) % 5003);
    for (const v of values) heap.push(v);
    heap.retain((v) => v % 3 !== 0);
    const popped: number[] = [];
    for (let v = heap.pop(); v !== undefined; v = heap.pop()) popped.push(v);
    expect(popped).toEqual(values.filter((v) => v % 3 !== 0).sort((a, b) => a - b));
  });
});

describe("QueueIndex visibility marks", () => {
  it("stay bounded when a consumer extends one lease over and over, and the lease still comes due once", () => {
    const index = new QueueIndex((tenant, topic) => `${tenant}/${topic}`);
    const message = index.add({
      seq: 1,
      tenant: "t",
      topic: "chat",
      state: LEASED,
      visibleAt: 1000,
      attempt: 1,
      deliveries: 1,
    });
    for (let at = 1001; at <= 200_000; at++) index.hide(message, LEASED, at);
    const queue = index.find("t", "chat");
    if (!queue) throw new Error("no queue");
    expect(queue.hidden.size).toBeLessThanOrEqual(2 * queue.count + 1025);
    expect(index.nextVisibleAt(queue)).toBe(200_000);
    expect(index.takeDue(queue, 199_999)).toEqual([]);
    expect(index.takeDue(queue, 200_000)).toEqual([message]);
  });

  it("drop the marks of removed messages once they outnumber the live ones", () => {
    const index = new QueueIndex((tenant, topic) => `${tenant}/${topic}`);
    const messages = Array.from({ length: 10_000 }, (_, i) =>
      index.add({
        seq: i + 1,
        tenant: "t",
        topic: "chat",
        state: LEASED,
        visibleAt: 5000 + i,
        attempt: 1,
        deliveries: 1,
      }),
    );
    // Acked: gone from the index, their marks left behind.
    for (const message of messages.slice(0, 9_990)) index.remove(message);
    const queue = index.find("t", "chat");
    if (!queue) throw new Error("no queue");
    const kept = messages.slice(9_990);
    for (const message of kept) index.hide(message, LEASED, 90_000 + message.seq);
    expect(queue.hidden.size).toBeLessThanOrEqual(2 * queue.count + 1025);
    expect(index.takeDue(queue, 200_000).map((m) => m.seq)).toEqual(kept.map((m) => m.seq));
  });
});
