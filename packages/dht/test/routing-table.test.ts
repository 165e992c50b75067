import { describe, expect, it } from "vitest";
import {
  bucketIndex,
  distanceCompare,
  idFromHex,
  idToHex,
  RoutingTable,
  randomId,
  randomIdInBucket,
  seededRandom,
  xorDistance,
} from "../src/index.js";
import { contact, idWith, trueClosest } from "./support.js";

describe("ids", () => {
  it("computes XOR distance, ordering and bucket index", () => {
    const a = idWith(0b1000_0000);
    const b = idWith(0b1100_0000);
    expect(xorDistance(a, b)[0]).toBe(0b0100_0000);
    expect(bucketIndex(a, b)).toBe(1);
    expect(bucketIndex(a, a)).toBe(256);
    expect(bucketIndex(idWith(0), idWith(1))).toBe(7);
    const t = idWith(0);
    expect(distanceCompare(t, idWith(1), idWith(2))).toBeLessThan(0);
    expect(distanceCompare(t, idWith(3), idWith(2))).toBeGreaterThan(0);
    expect(distanceCompare(t, idWith(3), idWith(3))).toBe(0);
  });

  it("round-trips hex and draws ids in a chosen bucket", () => {
    const random = seededRandom(7);
    const id = randomId(random);
    expect(idFromHex(idToHex(id))).toEqual(id);
    expect(() => idFromHex("zz")).toThrow();
    for (const index of [0, 1, 7, 8, 13, 100, 255]) {
      expect(bucketIndex(id, randomIdInBucket(id, index, random))).toBe(index);
    }
  });
});

describe("RoutingTable", () => {
  const self = idWith(0);

  it("keeps LRU order and moves a seen contact to the tail", () => {
    const table = new RoutingTable(self, { k: 3 });
    // All in bucket 0 (top bit differs from self).
    const [a, b, c] = [0x80, 0x81, 0x82].map((x) => contact(idWith(x), String(x)));
    for (const x of [a, b, c]) if (x) expect(table.update(x)).toBe("added");
    if (a) expect(table.update(a)).toBe("updated");
    expect(table.bucket(0).map((x) => x.address)).toEqual(["129", "130", "128"]);
    expect(table.update(contact(self))).toBe("self");
  });

  it("keeps old contacts in a full bucket, caches newcomers, evicts after 2 failures", () => {
    const table = new RoutingTable(self, { k: 2, maxFailures: 2, replacements: 2 });
    const a = contact(idWith(0x80), "a");
    const b = contact(idWith(0x81), "b");
    const c = contact(idWith(0x82), "c");
    const d = contact(idWith(0x83), "d");
    table.update(a);
    table.update(b);
    expect(table.update(c)).toBe("cached");
    expect(table.update(d)).toBe("cached");
    expect(table.bucket(0).map((x) => x.address)).toEqual(["a", "b"]);
    expect(table.replacementsOf(0).map((x) => x.address)).toEqual(["c", "d"]);
    expect(table.recordFailure(a.id)).toBe(false);
    expect(table.failures(a.id)).toBe(1);
    expect(table.recordFailure(a.id)).toBe(true);
    // The newest replacement took a's place.
    expect(table.bucket(0).map((x) => x.address)).toEqual(["b", "d"]);
    expect(table.size).toBe(2);
    // A failed entry in a full bucket is replaced by a newcomer right away.
    table.recordFailure(b.id);
    expect(table.update(contact(idWith(0x84), "e"))).toBe("replaced");
    expect(table.bucket(0).map((x) => x.address)).toEqual(["d", "e"]);
    // An answer clears the failure count.
    table.recordFailure(d.id);
    table.update(d);
    expect(table.failures(d.id)).toBe(0);
  });

  it("closest(target, n) matches a brute-force sort", () => {
    const random = seededRandom(3);
    const me = randomId(random);
    const table = new RoutingTable(me, { k: 20 });
    const ids = Array.from({ length: 2000 }, () => randomId(random));
    for (const id of ids) table.update(contact(id));
    const stored = table.all().map((x) => x.id);
    for (let i = 0; i < 20; i++) {
      const target = i === 0 ? me : randomId(random);
      const got = table.closest(target, 20).map((x) => idToHex(x.id));
      expect(got).toEqual(trueClosest(stored, target, 20).map(idToHex));
    }
  });
});
