import { describe, expect, it } from "vitest";
import { runMultiTenant } from "./multi-tenant/run.js";

/**
 * Lowest Jain's index over compliant tenants' served shares we accept under overload.
 * Measured: 0.878 and 0.885 on this CI form (1,000 tenants, 8 s loaded, 2-core machine),
 * 0.963 over 60 s. Two things hold it below 1 when the node is fair: the node's fair share
 * gives every active tenant the same open streams whatever its quota, so large tenants get
 * a smaller share of their entitlement than small ones (x_mean ≈ 0.3 against ≈ 0.7); and a
 * small tenant sends about 4 requests in 8 s, so its x moves in steps of ¼ — with about half
 * refused, binomial noise alone gives a coefficient of variation near 0.5 and J = 1 ÷ (1 +
 * CV²) ≈ 0.8 within the class. 0.75 leaves room for a busier machine (more 503s, noisier x)
 * and still fails on any real starvation: one class of compliant tenants (70 % small, say)
 * served nothing gives J ≤ 0.3, half of all tenants served nothing J ≤ 0.5.
 */
const JAIN_COMPLIANT_BOUND = 0.75;

describe("multi-tenant load", () => {
  it("1,000 tenants under overload: nothing hangs, every refusal says when to retry, the heavy tenants get the 429s, compliant tenants are served evenly", async () => {
    const { summary, classes } = await runMultiTenant({
      tenants: 1000,
      warmupSeconds: 1,
      unloadedSeconds: 3,
      loadedSeconds: 8,
    });

    // Every call ended, with a reply from the node: 200, or a refusal carrying retry_after_ms.
    expect(summary.unsettled).toBe(0);
    expect(summary.loaded.other).toBe(0);
    expect(summary.retry_after_missing).toBe(0);
    // 1–5 s on 429 quota, 1 s on the node's 503 overloaded, 100 ms on a backend app's.
    expect(summary.retry_after_ms?.min).toBeGreaterThanOrEqual(100);
    expect(summary.retry_after_ms?.max).toBeLessThanOrEqual(5_000);

    // The baseline was unloaded; the loaded phase overloaded the node (offered open streams
    // within quota above its ceiling, and it refused with 503 overloaded).
    expect(summary.unloaded["503"]).toBe(0);
    expect(summary.overload_factor).toBeGreaterThan(1.3);
    expect(summary.loaded["503"]).toBeGreaterThan(0);
    const refused = summary.node_refused ?? {};
    expect((refused.fair_share ?? 0) + (refused.inflight_ceiling ?? 0)).toBeGreaterThan(0);
    // The node counted at least the quota refusals the clients saw in the loaded phase.
    expect(refused.quota ?? 0).toBeGreaterThanOrEqual(summary.loaded["429"]);

    // 429s went to the tenants over their quota, not to those within it.
    expect(summary.share_429.heavy).toBeGreaterThan(0.5);
    expect(summary.share_429.compliant).toBeLessThan(0.01);
    expect(summary.share_429.compliant).toBeLessThan(summary.share_429.heavy / 20);
    for (const c of classes.filter((k) => !k.heavy)) expect(c.share_429).toBeLessThan(0.01);

    // Compliant tenants were served in even proportion to their entitlement.
    expect(summary.jain.compliant, JSON.stringify(summary.jain)).toBeGreaterThan(JAIN_COMPLIANT_BOUND);
    for (const c of classes) expect(c["200"]).toBeGreaterThan(0);
  }, 60_000);
});
