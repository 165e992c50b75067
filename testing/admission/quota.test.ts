import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runLoad } from "../load/generator.js";
import { sampleValue, scrape } from "../support/prometheus-text.js";
import { TestScope } from "../support/scope.js";
import { tempDir } from "../support/temp-dir.js";

const RATE = 20;
const NOISY = 0x10n;
const STEADY = 0x20n;

describe("quotas", () => {
  const scope = new TestScope();
  afterEach(() => scope.close());

  function configFile(toml: string): string {
    const dir = tempDir();
    scope.defer(dir.remove);
    const path = join(dir.path, "omnigate.toml");
    writeFileSync(path, toml);
    return path;
  }

  it("answers a tenant at 10× its rate with 429 quota and a 1–5 s retry hint while a tenant at its rate sees none", async () => {
    const node = await scope.node(
      {},
      { configFile: configFile(`[quotas.apps."0x0101"]\nrate = ${RATE}\nburst = ${2 * RATE}\n`) },
    );
    const report = await runLoad({
      url: node.oapUrl,
      connect: { ca: node.caPem as string, servername: "localhost" },
      connections: 4,
      flows: [
        { name: "noisy", tenant: NOISY, ratePerSec: 10 * RATE },
        { name: "steady", tenant: STEADY, ratePerSec: RATE },
      ],
      durationMs: 3_000,
    });
    const [noisy, steady] = report.flows;

    expect(noisy?.unsettled).toBe(0);
    expect(noisy?.by_reason.quota).toBeGreaterThan(0);
    expect(noisy?.by_code["429"]).toBe(noisy?.by_reason.quota);
    expect(Object.keys(noisy?.by_code ?? {}).sort()).toEqual(["200", "429"]);
    expect(noisy?.retry_after_ms?.min).toBeGreaterThanOrEqual(1_000);
    expect(noisy?.retry_after_ms?.max).toBeLessThanOrEqual(5_000);

    expect(steady?.sent).toBeGreaterThan(0);
    expect(steady?.by_code).toEqual({ "200": steady?.sent });

    // The node counted exactly the refusals the clients saw, in admission and in the golden metrics.
    expect(node.admission().refused.quota).toBe(noisy?.by_reason.quota);
    const metrics = await scrape(node.adminUrl);
    expect(sampleValue(metrics, "rejected_total", { reason: "quota" })).toBe(noisy?.by_reason.quota);
    expect(sampleValue(metrics, "quota_exhaustions_total", { app: "0x0101" })).toBe(noisy?.by_reason.quota);
    expect(sampleValue(metrics, "requests_total", { app: "0x0101", code: "429" })).toBe(
      noisy?.by_reason.quota,
    );
  });

  it("applies a tenant's override instead of its app's rule", async () => {
    const node = await scope.node(
      {},
      {
        configFile: configFile(
          [
            `[quotas.apps."0x0101"]`,
            "rate = 0.001",
            "burst = 2",
            "[[quotas.tenants]]",
            `tenant = "0x${STEADY.toString(16)}"`,
            `app = "0x0101"`,
            "burst = 5",
          ].join("\n"),
        ),
      },
    );
    const report = await runLoad({
      url: node.oapUrl,
      connect: { ca: node.caPem as string, servername: "localhost" },
      connections: 1,
      flows: [
        { name: "default", tenant: NOISY, ratePerSec: 20 },
        { name: "override", tenant: STEADY, ratePerSec: 20 },
      ],
      durationMs: 500,
    });
    const [plain, overridden] = report.flows;
    // At 0.001 tokens/s nothing refills during the run: each tenant gets exactly its burst.
    expect(plain?.by_code["200"]).toBe(2);
    expect(overridden?.by_code["200"]).toBe(5);
    expect(plain?.by_code["429"]).toBe((plain?.sent ?? 0) - 2);
    expect(overridden?.by_code["429"]).toBe((overridden?.sent ?? 0) - 5);
  });

  it("meters request bodies with a bytes/s bucket", async () => {
    const node = await scope.node(
      {},
      {
        configFile: configFile(
          [`[quotas.apps."0x0101"]`, "rate = 1000", "bytes_per_sec = 1", "bytes_burst = 4000"].join("\n"),
        ),
      },
    );
    const report = await runLoad({
      url: node.oapUrl,
      connect: { ca: node.caPem as string, servername: "localhost" },
      connections: 1,
      flows: [{ tenant: NOISY, ratePerSec: 20, bodyBytes: 1024 }],
      durationMs: 500,
    });
    const [flow] = report.flows;
    // 4000 bytes of burst: three 1 KiB bodies fit, the fourth overdraws the bucket, and at 1 byte/s
    // every later request finds it in debt.
    expect(flow?.by_code["200"]).toBe(4);
    expect(flow?.by_reason.quota).toBe((flow?.sent ?? 0) - 4);
    expect(node.admission().refused.quota_bytes).toBe(flow?.by_reason.quota);
  });
});
