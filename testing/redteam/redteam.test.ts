import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REDTEAM_CASES } from "./cases.js";
import {
  type CaseResult,
  type Health,
  type RedteamNode,
  RSS_GROWTH_BOUND,
  runSuite,
  startRedteamNode,
} from "./suite.js";

/**
 * The red-team suite against a fresh node process: every case's observed outcome must be the
 * one written in cases.ts, and afterwards the node serves, its RSS is within RSS_GROWTH_BOUND
 * of where it started and its open file descriptors are back to the starting count.
 */
let node: RedteamNode;
let results: Map<string, CaseResult>;
let health: Health;

beforeAll(async () => {
  node = await startRedteamNode();
  const run = await runSuite(node);
  results = new Map(run.results.map((r) => [r.name, r]));
  health = run.health;
}, 180_000);

afterAll(async () => {
  await node?.stop();
});

describe("red-team cases", () => {
  it.each(REDTEAM_CASES.map((c) => [c.group, c.name, c.expected] as const))(
    "%s: %s → %s",
    (_group, name, expected) => {
      expect(results.get(name)?.observed).toBe(expected);
    },
  );
});

describe("the node after the suite", () => {
  it("answers HELLO and echo", () => {
    expect(health.hello).toBe(true);
    expect(health.echo).toBe(true);
  });

  it(`keeps its RSS within ${RSS_GROWTH_BOUND / 1024 / 1024} MiB of where it started`, () => {
    expect(health.rssEnd - health.rssStart).toBeLessThanOrEqual(RSS_GROWTH_BOUND);
  });

  it("has no more open file descriptors than at the start", () => {
    expect(health.fdsEnd).toBeLessThanOrEqual(health.fdsStart);
  });
});
