import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { runLoad } from "../load/generator.js";
import { startRedis } from "../support/redis-server.js";
import { TestScope } from "../support/scope.js";
import { tempDir } from "../support/temp-dir.js";

const TENANT = 0x77n;
/** Almost no refill during the test: each bucket admits exactly its burst. */
const QUOTA = `[quotas.apps."0x0101"]\nrate = 0.001\nburst = 10\n`;

describe("global quotas through Redis", () => {
  const scope = new TestScope();
  afterEach(() => scope.close());

  function configFile(): string {
    const dir = tempDir();
    scope.defer(dir.remove);
    const path = join(dir.path, "omnigate.toml");
    writeFileSync(path, QUOTA);
    return path;
  }

  async function burst(url: string, ca: string | undefined, requests: number) {
    const report = await runLoad({
      url,
      connect: { ca, servername: "localhost" },
      connections: 1,
      flows: [{ tenant: TENANT, ratePerSec: 50 }],
      durationMs: (requests * 1000) / 50,
    });
    return report.flows[0];
  }

  it("shares one bucket per tenant between two nodes, and falls back to each node's own when Redis is gone", async () => {
    const redis = await startRedis();
    scope.defer(() => redis.stop());
    const prefix = "test:quota:";
    const overrides = { quotaRedisUrl: redis.url, quotaRedisKeyPrefix: prefix };
    const a = await scope.node(overrides, { configFile: configFile() });
    const b = await scope.node(overrides, { configFile: configFile() });

    const fromA = await burst(a.oapUrl, a.caPem, 15);
    const fromB = await burst(b.oapUrl, b.caPem, 15);
    // Alone, each node would admit 10 (its burst); sharing, the two admit 10 between them.
    expect((fromA?.by_code["200"] ?? 0) + (fromB?.by_code["200"] ?? 0)).toBe(10);
    expect(fromA?.by_code["200"]).toBe(10);
    expect(fromB?.by_reason).toEqual({ quota: 15 });
    expect(fromB?.retry_after_ms?.max).toBeLessThanOrEqual(5_000);
    expect(a.admission().quota_global_failures + b.admission().quota_global_failures).toBe(0);

    // The bucket lives in Redis under the configured prefix.
    const probe = new Redis(redis.url);
    const keys = await probe.keys(`${prefix}*`);
    const ttl = await probe.pttl(keys[0] as string);
    probe.disconnect();
    expect(keys).toEqual([`${prefix}257:${TENANT}`]);
    expect(ttl).toBeGreaterThan(0);

    // Without Redis, node B still answers, from its own bucket (fresh: a full burst).
    await redis.stop();
    const alone = await burst(b.oapUrl, b.caPem, 15);
    expect(alone?.unsettled).toBe(0);
    expect(alone?.by_code["200"]).toBe(10);
    expect(alone?.by_reason).toEqual({ quota: 5 });
    expect(b.admission().quota_global_failures).toBe(15);
  });
});
