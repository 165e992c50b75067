import { OapError } from "@omnigate/oap";
import type { IncomingRequest } from "@omnigate/sdk";
import { describe, expect, it } from "vitest";
import {
  AdmissionChain,
  type AdmissionOptions,
  ConnectionLimit,
  LoadReadiness,
  QuotaStage,
  TenantInflight,
} from "../src/admission/index.js";
import { NO_QUOTAS, parseQuotaRules } from "../src/config/index.js";
import { BoundedLru } from "../src/util/bounded-lru.js";
import { TokenBucket } from "../src/util/token-bucket.js";

describe("TokenBucket", () => {
  it("spends its burst, then says how long until the next token", () => {
    const bucket = new TokenBucket(10, 3, 0);
    expect([bucket.take(0), bucket.take(0), bucket.take(0)]).toEqual([0, 0, 0]);
    expect(bucket.take(0)).toBe(100); // 10/s: one token every 100 ms
    expect(bucket.take(50)).toBe(50);
    expect(bucket.take(100)).toBe(0);
  });

  it("never refills past its burst", () => {
    const bucket = new TokenBucket(1000, 2, 0);
    expect(bucket.available(60_000)).toBe(2);
  });

  it("lets one large item overdraw it and makes later ones wait out the debt", () => {
    const bucket = new TokenBucket(100, 100, 0);
    expect(bucket.takeOverdraft(0, 250)).toBe(0);
    expect(bucket.available(0)).toBe(-150);
    expect(bucket.takeOverdraft(0, 1)).toBe(1_500);
    bucket.charge(0, 50);
    expect(bucket.takeOverdraft(0, 1)).toBe(2_000);
  });
});

describe("BoundedLru", () => {
  it("keeps at most its capacity, evicting the least recently used", () => {
    const lru = new BoundedLru<string, number>(2);
    lru.getOrCreate("a", () => 1);
    lru.getOrCreate("b", () => 2);
    lru.get("a"); // a is now the most recent
    lru.getOrCreate("c", () => 3);
    expect(lru.size).toBe(2);
    expect(lru.get("b")).toBeUndefined();
    expect(lru.get("a")).toBe(1);
    expect(lru.evictions).toBe(1);
  });
});

describe("ConnectionLimit", () => {
  it("refuses connections over the total and the per-address limits, and counts closes", () => {
    const limit = new ConnectionLimit(3, 2, 1_000);
    expect(limit.tryOpen("10.0.0.1")).toBeUndefined();
    expect(limit.tryOpen("10.0.0.1")).toBeUndefined();
    const perAddress = limit.tryOpen("10.0.0.1");
    expect(perAddress).toBeInstanceOf(OapError);
    expect(perAddress?.code).toBe(503);
    expect(perAddress?.retryAfterMs).toBe(1_000);
    expect(limit.tryOpen("10.0.0.2")).toBeUndefined();
    expect(limit.tryOpen("10.0.0.3")?.reason).toBe("overloaded");
    expect(limit.connections).toBe(3);
    limit.closed("10.0.0.1");
    expect(limit.tryOpen("10.0.0.1")).toBeUndefined();
    expect(limit.refused).toBe(2);
  });
});

describe("LoadReadiness", () => {
  it("turns not ready at the high mark and ready again only below the low mark", () => {
    const r = new LoadReadiness(100, 1_000_000, 85, 70);
    expect(r.update(84, 0)).toBe(false);
    expect(r.ready).toBe(true);
    expect(r.update(85, 0)).toBe(true);
    expect(r.ready).toBe(false);
    expect(r.reasons(80, 0)).toEqual(["inflight"]);
    r.update(75, 0);
    expect(r.ready).toBe(false); // between the marks: stays not ready
    r.update(69, 0);
    expect(r.ready).toBe(true);
    r.update(0, 900_000); // buffered bytes count too
    expect(r.ready).toBe(false);
    expect(r.turnedNotReady).toBe(2);
  });
});

describe("TenantInflight", () => {
  it("counts open streams per tenant and stays bounded however many tenant ids come and go", () => {
    const t = new TenantInflight(100);
    expect(t.enter(1n)).toBe(1);
    expect(t.enter(1n)).toBe(2);
    expect(t.enter(2n)).toBe(1);
    expect(t.tenants).toBe(2);
    for (let id = 1_000n; id < 11_000n; id++) {
      t.enter(id);
      t.leave(id);
    }
    expect(t.tenants).toBe(2);
    expect(t.entries).toBeLessThanOrEqual(100);
    t.leave(1n);
    t.leave(1n);
    t.leave(2n);
    expect(t.tenants).toBe(0);
  });

  it("keeps the count of a tenant with open streams through pruning, and never goes below zero", () => {
    const t = new TenantInflight(10);
    t.enter(5n);
    t.enter(5n);
    // Idle tenants churn past the bound, pruning the map several times while 5n stays open.
    for (let id = 100n; id < 200n; id++) {
      t.enter(id);
      t.leave(id);
    }
    expect(t.entries).toBeLessThanOrEqual(10);
    expect(t.enter(5n)).toBe(3);
    t.leave(5n);
    t.leave(5n);
    t.leave(5n);
    t.leave(5n); // one more than entered
    expect(t.tenants).toBe(0);
    expect(t.enter(5n)).toBe(1);
    expect(t.tenants).toBe(1);
  });

  it("sets the share at the ceiling over the tenants with open streams plus one", () => {
    const t = new TenantInflight(100);
    t.enter(1n);
    // alone: a share is half the ceiling, keeping the rest for a tenant yet to come
    expect(t.overShare(50, 100)).toBe(false);
    expect(t.overShare(51, 100)).toBe(true);
    t.enter(2n);
    t.enter(3n);
    expect(t.overShare(26, 100)).toBe(true);
    expect(t.overShare(25, 100)).toBe(false);
  });
});

describe("QuotaStage", () => {
  const rules = parseQuotaRules({ "0x0101": { rate: 10, burst: 2 } }, [
    { tenant: "0x2a", app: "0x0101", rate: 10, burst: 4 },
  ]);

  it("costs nothing for apps without a rule", () => {
    const q = new QuotaStage({ rules, maxTenants: 10, retryMinMs: 1_000, retryMaxMs: 5_000 });
    for (let i = 0; i < 100; i++) expect(q.check(1n, 0x0201, 0, 0)).toBeUndefined();
    expect(q.trackedBuckets).toBe(0);
  });

  it("refuses with 429 quota and a retry hint kept within its bounds", () => {
    const q = new QuotaStage({ rules, maxTenants: 10, retryMinMs: 1_000, retryMaxMs: 5_000 });
    expect(q.check(1n, 0x0101, 0, 0)).toBeUndefined();
    expect(q.check(1n, 0x0101, 0, 0)).toBeUndefined();
    const refused = q.check(1n, 0x0101, 0, 0);
    expect(refused).toBeInstanceOf(OapError);
    expect((refused as OapError).code).toBe(429);
    expect((refused as OapError).reason).toBe("quota");
    // The next token is 100 ms away; the hint says at least a second, as the plan asks.
    expect((refused as OapError).retryAfterMs).toBe(1_000);
    expect(q.refusedRequests).toBe(1);

    const slow = new QuotaStage({
      rules: parseQuotaRules({ "0x0101": { rate: 0.01, burst: 1 } }, undefined),
      maxTenants: 10,
      retryMinMs: 1_000,
      retryMaxMs: 5_000,
    });
    slow.check(1n, 0x0101, 0, 0);
    expect((slow.check(1n, 0x0101, 0, 0) as OapError).retryAfterMs).toBe(5_000);
  });

  it("gives a tenant its override and every other tenant the app's rule", () => {
    const q = new QuotaStage({ rules, maxTenants: 10, retryMinMs: 1_000, retryMaxMs: 5_000 });
    const admitted = (tenant: bigint) => {
      let n = 0;
      while (q.check(tenant, 0x0101, 0, 0) === undefined) n++;
      return n;
    };
    expect(admitted(0x2an)).toBe(4);
    expect(admitted(0x2bn)).toBe(2);
  });

  it("keeps at most max_tenants buckets however many tenants show up", () => {
    const q = new QuotaStage({ rules, maxTenants: 100, retryMinMs: 1_000, retryMaxMs: 5_000 });
    for (let t = 0n; t < 10_000n; t++) q.check(t, 0x0101, 0, 0);
    expect(q.trackedBuckets).toBe(100);
  });
});

function request(tenantId: bigint, appProtoId = 0x0101): IncomingRequest {
  return { tenantId, appProtoId, startBodyBytes: 0, receivedAt: Date.now() } as IncomingRequest;
}

function chain(overrides: Partial<AdmissionOptions> = {}): AdmissionChain {
  return new AdmissionChain({
    maxConnections: 100,
    maxConnectionsPerIp: 0,
    maxInflight: 10,
    maxBufferedBytes: 1_000_000,
    overloadRetryAfterMs: 1_000,
    notReadyAtPct: 80,
    readyAtPct: 50,
    quota: { rules: NO_QUOTAS, maxTenants: 10, retryMinMs: 1_000, retryMaxMs: 5_000 },
    ...overrides,
  });
}

/** Admits like the session does: a refused stream ends (is released) at once. */
function admit(c: AdmissionChain, tenant: bigint): OapError | undefined {
  const target = { corrId: 0n, appProtoId: 0x0101, tenantId: tenant };
  try {
    c.admit(request(tenant));
    return undefined;
  } catch (err) {
    c.release(target);
    return err as OapError;
  }
}

describe("AdmissionChain", () => {
  it("refuses streams over the node ceiling with 503 overloaded, after readiness turned", () => {
    const c = chain();
    const outcomes = Array.from({ length: 12 }, () => admit(c, 1n));
    expect(outcomes.slice(0, 8).every((o) => o === undefined)).toBe(true);
    const refused = outcomes.filter((o) => o !== undefined);
    expect(refused.length).toBeGreaterThan(0);
    for (const err of refused) {
      expect(err?.reason).toBe("overloaded");
      expect(err?.code).toBe(503);
      expect(err?.retryAfterMs).toBe(1_000);
    }
    const s = c.snapshot();
    expect(s.ready).toBe(false);
    expect(s.first_not_ready_decision).toBeGreaterThan(0);
    expect(s.first_overloaded_decision).toBeGreaterThan(s.first_not_ready_decision);
    expect(s.inflight).toBe(12 - refused.length);
  });

  it("near the ceiling, refuses the tenant over its share and still admits a quiet one", () => {
    const c = chain();
    // The noisy tenant takes what it can.
    let noisy = 0;
    while (admit(c, 1n) === undefined) noisy++;
    expect(noisy).toBeLessThan(10);
    // A second tenant still finds room below the ceiling.
    expect(admit(c, 2n)).toBeUndefined();
    expect(admit(c, 1n)?.reason).toBe("overloaded");
    expect(c.snapshot().refused.fair_share).toBeGreaterThan(0);
  });

  it("refuses new streams while buffered bytes are at their ceiling, and is ready again once they drain", () => {
    const c = chain();
    c.setBufferedBytes(1_000_000);
    expect(admit(c, 1n)?.reason).toBe("overloaded");
    expect(c.snapshot().refused.buffered_ceiling).toBe(1);
    expect(c.snapshot().not_ready_because).toContain("buffered_bytes");
    c.setBufferedBytes(0);
    expect(admit(c, 1n)).toBeUndefined();
    expect(c.snapshot().ready).toBe(true);
  });

  it("releases every admitted stream: in-flight returns to zero", () => {
    const c = chain();
    for (let i = 0; i < 5; i++) admit(c, BigInt(i));
    expect(c.snapshot().inflight).toBe(5);
    expect(c.snapshot().tenants_inflight).toBe(5);
    for (let i = 0; i < 5; i++) c.release({ corrId: 0n, appProtoId: 0x0101, tenantId: BigInt(i) });
    expect(c.snapshot()).toMatchObject({ inflight: 0, tenants_inflight: 0, ready: true });
  });
});
