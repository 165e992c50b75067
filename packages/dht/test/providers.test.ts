import { describe, expect, it } from "vitest";
import {
  type Contact,
  type DhtClock,
  DhtNode,
  type DhtNodeOptions,
  DhtRefusal,
  type DhtTransport,
  idEquals,
  randomId,
  seededRandom,
} from "../src/index.js";
import { buildNetwork } from "./support.js";

/** A node with a hand-driven clock and a transport that never answers (inbound tests only). */
function standalone(options: Partial<DhtNodeOptions> = {}) {
  const random = seededRandom(1);
  let now = 1_000_000;
  const clock: DhtClock = { now: () => now, sleep: () => new Promise(() => {}) };
  const never = () => new Promise<never>(() => {});
  const transport: DhtTransport = { findNode: never, findProviders: never, addProvider: never, ping: never };
  const node = new DhtNode({
    self: { id: randomId(random), address: "me" },
    transport,
    clock,
    random,
    ...options,
  });
  const peer = (): Contact => ({ id: randomId(random), address: "p" });
  return { node, peer, random, advance: (ms: number) => (now += ms), now: () => now };
}

function refusal(fn: () => void): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof DhtRefusal) return err.reason;
    throw err;
  }
  return "accepted";
}

describe("providers", () => {
  it("publishes on the k closest and is found from elsewhere", async () => {
    const net = await buildNetwork(120, 21);
    const key = randomId(seededRandom(5));
    const publisher = net.node(7);
    const accepted = await net.run(publisher.provide(key));
    expect(accepted).toBeGreaterThanOrEqual(18);
    const result = await net.run(net.node(90).findProviders(key));
    expect(result.providers).toHaveLength(1);
    expect(idEquals(result.providers[0]?.provider.id ?? new Uint8Array(), publisher.self.id)).toBe(true);
    expect(result.hops).toBeGreaterThanOrEqual(1);
    expect(result.rpcs).toBeGreaterThanOrEqual(result.hops ?? 0);
  });

  it("refuses a record announcing someone else, and a ttl beyond the maximum", () => {
    const { node, peer, now } = standalone({ providerTtlMs: 60_000, maxClockSkewMs: 0 });
    const caller = peer();
    const other = peer();
    const key = randomId(seededRandom(2));
    expect(refusal(() => node.onAddProvider(caller, { key, provider: other, expiresAt: now() + 1000 }))).toBe(
      "forged_provider",
    );
    expect(
      refusal(() => node.onAddProvider(caller, { key, provider: caller, expiresAt: now() + 60_001 })),
    ).toBe("ttl_too_long");
    expect(refusal(() => node.onAddProvider(caller, { key, provider: caller, expiresAt: now() }))).toBe(
      "expired",
    );
    expect(
      refusal(() => node.onAddProvider(caller, { key, provider: caller, expiresAt: now() + 60_000 })),
    ).toBe("accepted");
    const stats = node.stats();
    expect(stats.refused.forged_provider).toBe(1);
    expect(stats.refused.ttl_too_long).toBe(1);
    expect(stats.store.records).toBe(1);
    // Inbound calls fill the routing table.
    expect(node.table.get(caller.id)).toBeDefined();
  });

  it("expires records at their ttl", async () => {
    const { node, peer, advance, now } = standalone();
    const caller = peer();
    const key = randomId(seededRandom(3));
    node.onAddProvider(caller, { key, provider: caller, expiresAt: now() + 1000 });
    expect(node.onFindProviders(peer(), key).providers).toHaveLength(1);
    expect(node.nextMaintenanceAt()).toBe(now() + 1000);
    advance(999);
    expect(node.expire()).toBe(0);
    advance(1);
    const report = await node.maintain();
    expect(report).toEqual({ expired: 1, republished: 0 });
    expect(node.onFindProviders(peer(), key).providers).toHaveLength(0);
    expect(node.stats().store).toMatchObject({ records: 0, keys: 0, expired: 1 });
    expect(node.nextMaintenanceAt()).toBeUndefined();
  });

  it("keeps a flood of provider records within the bounds", () => {
    const { node, peer, now } = standalone({
      maxProviderKeys: 50,
      maxProvidersPerKey: 5,
      maxRecordsPerProvider: 10,
    });
    const random = seededRandom(4);
    const keys = Array.from({ length: 200 }, () => randomId(random));
    let refused = 0;
    // 2,000 distinct providers, each announcing itself for random keys.
    for (let i = 0; i < 2000; i++) {
      const p = peer();
      const key = keys[Math.floor(random() * keys.length)] ?? keys[0];
      if (!key) throw new Error("no key");
      if (
        refusal(() => node.onAddProvider(p, { key, provider: p, expiresAt: now() + 1000 + i })) !== "accepted"
      ) {
        refused++;
      }
    }
    // One provider announcing itself for every key.
    const greedy = peer();
    for (const key of keys) {
      if (
        refusal(() => node.onAddProvider(greedy, { key, provider: greedy, expiresAt: now() + 5000 })) !==
        "accepted"
      ) {
        refused++;
      }
    }
    const stats = node.stats();
    expect(stats.store.keys).toBeLessThanOrEqual(50);
    expect(stats.store.records).toBeLessThanOrEqual(50 * 5);
    for (const key of keys) expect(node.onFindProviders(peer(), key).providers.length).toBeLessThanOrEqual(5);
    const greedyRecords = keys.filter((key) =>
      node.onFindProviders(peer(), key).providers.some((r) => idEquals(r.provider.id, greedy.id)),
    ).length;
    expect(greedyRecords).toBeLessThanOrEqual(10);
    expect(refused).toBeGreaterThan(0);
    expect(stats.refused.store_full).toBe(refused);
    expect(stats.store.droppedFull).toBeGreaterThanOrEqual(refused);
  });
});
