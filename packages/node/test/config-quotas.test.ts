import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { tempDir } from "../../../testing/support/temp-dir.js";
import { ConfigError, loadConfig } from "../src/config/index.js";

const dirs: Array<{ remove: () => void }> = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});

function tomlFile(text: string): string {
  const dir = tempDir();
  dirs.push(dir);
  const path = join(dir.path, "omnigate.toml");
  writeFileSync(path, text);
  return path;
}

describe("quota rules in the config file", () => {
  it("has none by default, so nothing is metered", () => {
    const config = loadConfig({ env: {} });
    expect(config.quotaRules.apps.size).toBe(0);
    expect(config.quotaRules.tenants).toEqual([]);
  });

  it("reads per-app rules and per-tenant overrides next to scalar quota settings", () => {
    const config = loadConfig({
      env: {},
      file: tomlFile(
        [
          "[quotas]",
          "max_tenants = 500",
          '[quotas.apps."0x0101"]',
          "rate = 100",
          "burst = 200",
          "bytes_per_sec = 1048576",
          '[quotas.apps."513"]',
          "rate = 5",
          "[[quotas.tenants]]",
          'tenant = "0x2a"',
          'app = "0x0101"',
          "rate = 1000",
          "[[quotas.tenants]]",
          "tenant = 7",
          "app = 513",
          "rate = 1",
          "burst = 1",
        ].join("\n"),
      ),
    });
    expect(config.quotaMaxTenants).toBe(500);
    expect(config.quotaRules.apps.get(0x0101)).toEqual({
      rate: 100,
      burst: 200,
      bytesPerSec: 1_048_576,
      bytesBurst: 1_048_576,
    });
    // burst defaults to one second of rate
    expect(config.quotaRules.apps.get(513)).toMatchObject({ rate: 5, burst: 5, bytesPerSec: undefined });
    // an override inherits what it does not name from its app's rule
    expect(config.quotaRules.tenants[0]).toEqual({
      tenant: 0x2an,
      app: 0x0101,
      rule: { rate: 1000, burst: 200, bytesPerSec: 1_048_576, bytesBurst: 1_048_576 },
    });
    expect(config.quotaRules.tenants[1]).toMatchObject({ tenant: 7n, app: 513, rule: { rate: 1, burst: 1 } });
  });

  it("names the rule and what is expected when one is wrong", () => {
    const bad = (text: string) => () => loadConfig({ env: {}, file: tomlFile(text) });
    expect(bad('[quotas.apps."echo"]\nrate = 1\n')).toThrow(
      /quotas\.apps\."echo": app must be an app_proto_id/,
    );
    expect(bad('[quotas.apps."0x0101"]\nrate = 0\n')).toThrow(/rate must be a number above 0/);
    expect(bad('[quotas.apps."0x0101"]\nburst = 3\n')).toThrow(/rate must be a number above 0/);
    expect(bad('[quotas.apps."0x0101"]\nrate = 1\nburts = 3\n')).toThrow(/unknown setting "burts"/);
    expect(bad('[[quotas.tenants]]\ntenant = "me"\napp = 1\nrate = 1\n')).toThrow(/tenant id \(u128\)/);
    expect(bad("[quotas]\nmax_tenant = 3\n")).toThrow(ConfigError);
    expect(bad("[quotas]\nmax_tenant = 3\n")).toThrow(/unknown setting "quotas\.max_tenant"/);
  });

  it("checks the readiness marks and retry bounds against each other", () => {
    expect(() => loadConfig({ env: {}, flags: { readyAtPct: 90, notReadyAtPct: 85 } })).toThrow(/hysteresis/);
    expect(() => loadConfig({ env: {}, flags: { quotaRetryMinMs: 6_000 } })).toThrow(/retry_after_min_ms/);
  });

  it("accepts the quota example in docs/configuration.md", () => {
    const doc = readFileSync(new URL("../../../docs/configuration.md", import.meta.url), "utf8");
    const example = [...doc.matchAll(/```toml\n([\s\S]*?)```/g)]
      .map((m) => m[1])
      .find((t) => t?.includes("[quotas"));
    expect(example).toBeDefined();
    const config = loadConfig({ env: {}, file: tomlFile(example as string) });
    expect(config.quotaRules.apps.size).toBeGreaterThan(0);
    expect(config.quotaRules.tenants.length).toBeGreaterThan(0);
  });
});
