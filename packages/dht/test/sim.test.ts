import { describe, expect, it } from "vitest";
import { ADAPTIVE, simulate } from "../sim/simulate.js";

describe("simulation", () => {
  it("500 nodes, 20% churn, 1% loss: p99 ≤ 5 hops and few failures (seed 42)", async () => {
    const result = await simulate({
      nodes: 500,
      churn: 0.2,
      lookups: 200,
      keys: 100,
      seed: 42,
      loss: 0.01,
      config: ADAPTIVE,
    });
    expect(result.hops_p99).toBeLessThanOrEqual(5);
    expect(result.failure_rate).toBeLessThanOrEqual(0.01);
    expect(result.lookups).toBe(200);
  });
});
