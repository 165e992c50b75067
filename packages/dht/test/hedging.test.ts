import { describe, expect, it } from "vitest";
import { VirtualScheduler } from "../sim/scheduler.js";
import {
  type Contact,
  DhtNode,
  type DhtNodeOptions,
  type DhtTransport,
  type FindProvidersAnswer,
  seededRandom,
} from "../src/index.js";
import { idWith } from "./support.js";

/**
 * Requester R knows two contacts: D (dead, closest to the key, never answers) and L (live,
 * 50 ms away, holds a provider record). With alpha = 1 the lookup asks D first.
 */
function scenario(options: Partial<DhtNodeOptions>) {
  const scheduler = new VirtualScheduler();
  const key = idWith(0x00);
  const dead: Contact = { id: idWith(0x01), address: "D" };
  const live: Contact = { id: idWith(0x02), address: "L" };
  const provider: Contact = { id: idWith(0x03), address: "P" };
  const never = () => new Promise<never>(() => {});
  const answer = <T>(value: T) => new Promise<T>((resolve) => scheduler.schedule(50, () => resolve(value)));
  const transport: DhtTransport = {
    findNode: (to) => (to.address === "L" ? answer([]) : never()),
    findProviders: (to) =>
      to.address === "L"
        ? answer<FindProvidersAnswer>({ providers: [{ key, provider, expiresAt: 1e12 }], closer: [] })
        : never(),
    addProvider: never,
    ping: (to) => (to.address === "L" ? answer(undefined) : never()),
  };
  const node = new DhtNode({
    self: { id: idWith(0xf0), address: "R" },
    transport,
    clock: { now: () => scheduler.now(), sleep: (ms, signal) => scheduler.sleep(ms, signal) },
    random: seededRandom(1),
    alpha: 1,
    ...options,
  });
  node.table.update(dead);
  node.table.update(live);
  return { node, key, dead, run: <T>(p: Promise<T>) => scheduler.run(p) };
}

describe("per-contact timeouts and hedging", () => {
  it("a contact that never answers costs one per-contact timeout", async () => {
    const { node, key, dead, run } = scenario({
      contactTimeoutMs: 1000,
      adaptiveTimeouts: false,
      hedgeAfterMs: null,
    });
    const result = await run(node.findProviders(key));
    expect(result.providers).toHaveLength(1);
    expect(result.timeouts).toBe(1);
    expect(result.elapsedMs).toBeCloseTo(1050, 3);
    expect(result.hops).toBe(1);
    expect(node.table.failures(dead.id)).toBe(1);
    // A second failure evicts it.
    await run(node.findProviders(key));
    expect(node.table.get(dead.id)).toBeUndefined();
    expect(node.stats().evictions).toBe(1);
  });

  it("hedging finds the answer without waiting for the timeout", async () => {
    const { node, key, run } = scenario({
      contactTimeoutMs: 1000,
      adaptiveTimeouts: false,
      hedgeAfterMs: 200,
    });
    const result = await run(node.findProviders(key));
    expect(result.providers).toHaveLength(1);
    expect(result.hedges).toBe(1);
    expect(result.timeouts).toBe(0);
    expect(result.elapsedMs).toBeCloseTo(250, 3);
  });

  it("adaptive timeouts shrink to the observed RTTs", async () => {
    const { node, key, run } = scenario({ contactTimeoutMs: 1000, hedgeAfterMs: null, maxFailures: 100 });
    // The first lookups pay the 1 s default; once 8 RTT samples (50 ms) exist, an unmeasured
    // contact gets 3 × p90 = 150 ms.
    const first = await run(node.findProviders(key));
    expect(first.elapsedMs).toBeCloseTo(1050, 3);
    for (let i = 0; i < 8; i++) await run(node.findProviders(key));
    const later = await run(node.findProviders(key));
    expect(later.timeouts).toBe(1);
    expect(later.elapsedMs).toBeLessThan(1050);
    expect(later.elapsedMs).toBeCloseTo(150 + 50, 3);
  });
});
