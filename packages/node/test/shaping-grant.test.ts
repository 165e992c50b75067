import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/config/index.js";
import { grantShaping, shapingSettings } from "../src/services/shaping-grant.js";

interface ShapingVectors {
  node_limits: { max_jitter_ms: number; max_cover_hz: number; max_cover_bytes: number };
  hello: Array<{ name: string; request: unknown; reply: unknown }>;
}

const { shaping } = JSON.parse(
  readFileSync(new URL("../../../specs/vectors/oap-1.json", import.meta.url), "utf8"),
) as { shaping: ShapingVectors };

const limits = {
  maxJitterMs: shaping.node_limits.max_jitter_ms,
  maxCoverHz: shaping.node_limits.max_cover_hz,
  maxCoverBytes: shaping.node_limits.max_cover_bytes,
};

describe("grantShaping (specs/oap-1.md §10.1)", () => {
  it("uses the node's default limits as the vectors do", () => {
    const config = loadConfig({ env: {} });
    expect([config.shapingMaxJitterMs, config.shapingMaxCoverHz, config.shapingMaxCoverBytes]).toEqual([
      limits.maxJitterMs,
      limits.maxCoverHz,
      limits.maxCoverBytes,
    ]);
    expect(config.shapingEnabled).toBe("true");
  });

  it.each(shaping.hello.map((h) => [h.name, h] as const))("grants %s as the vector says", (_name, h) => {
    expect(grantShaping(h.request ?? undefined, limits) ?? null).toEqual(h.reply);
  });

  it("ignores a shaping value that is not an object", () => {
    for (const asked of [true, "padme", 3, null, ["padme"]])
      expect(grantShaping(asked, limits)).toBeUndefined();
  });

  it("shapes nothing for a grant with everything off", () => {
    const off = { padding: "off", jitter_ms: 0, cover_hz: 0, cover_max_bytes: 4096 } as const;
    expect(shapingSettings(off, 1_048_576)).toBeUndefined();
    expect(shapingSettings({ ...off, cover_hz: 2 }, 65_536)).toEqual({
      padding: "off",
      jitterMs: 0,
      coverHz: 2,
      coverMaxBytes: 4096,
      maxFrame: 65_536,
    });
  });

  it("reads shaping.enabled from TOML booleans and from text", () => {
    const dir = mkdtempSync(join(tmpdir(), "shaping-config-"));
    try {
      const file = join(dir, "node.toml");
      writeFileSync(file, "[shaping]\nenabled = false\nmax_jitter_ms = 10\n");
      expect(loadConfig({ file, env: {} })).toMatchObject({
        shapingEnabled: "false",
        shapingMaxJitterMs: 10,
      });
    } finally {
      rmSync(dir, { recursive: true });
    }
    expect(loadConfig({ env: { OMNIGATE_SHAPING_ENABLED: "false" } }).shapingEnabled).toBe("false");
    expect(() => loadConfig({ env: { OMNIGATE_SHAPING_ENABLED: "no" } })).toThrow(/shaping.enabled/);
  });
});
