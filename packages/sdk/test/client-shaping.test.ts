import type { HelloReply } from "@omnigate/oap";
import { describe, expect, it } from "vitest";
import { resolveClientOptions } from "../src/client/options.js";
import { grantedShaping } from "../src/client/shaping.js";

const reply = (shaping: unknown): HelloReply =>
  ({
    versions: [1],
    max_frame: 65_536,
    max_inflight: 8,
    flags_supported: 0xff,
    ...(shaping === undefined ? {} : { shaping }),
  }) as HelloReply;

describe("the shaping option", () => {
  it("is absent unless given, and fills in what is left out", () => {
    expect(resolveClientOptions({}, {}).shaping).toBeUndefined();
    expect(resolveClientOptions({ shaping: {} }, {}).shaping).toEqual({
      padding: "padme",
      jitter_ms: 0,
      cover_hz: 0,
      cover_max_bytes: 4096,
    });
    expect(
      resolveClientOptions({ shaping: { padding: "pow2", jitterMs: 20, coverHz: 2.5 } }, {}).shaping,
    ).toEqual({
      padding: "pow2",
      jitter_ms: 20,
      cover_hz: 2.5,
      cover_max_bytes: 4096,
    });
  });

  it("refuses values that make no sense, naming the option", () => {
    const bad = [
      [{ padding: "zstd" as "off" }, /shaping.padding/],
      [{ jitterMs: -1 }, /shaping.jitterMs/],
      [{ coverHz: Number.NaN }, /shaping.coverHz/],
      [{ coverMaxBytes: 54 }, /shaping.coverMaxBytes/],
      [{ coverMaxBytes: 100.5 }, /shaping.coverMaxBytes/],
    ] as const;
    for (const [shaping, message] of bad) {
      expect(() => resolveClientOptions({ shaping }, {})).toThrow(message);
    }
  });
});

describe("grantedShaping", () => {
  const asked = { padding: "pow2", jitter_ms: 20, cover_hz: 5, cover_max_bytes: 2048 } as const;

  it("applies what the node granted, with the node's max_frame for PAD frames", () => {
    expect(
      grantedShaping(asked, reply({ padding: "pow2", jitter_ms: 10, cover_hz: 5, cover_max_bytes: 1000 })),
    ).toEqual({ padding: "pow2", jitterMs: 10, coverHz: 5, coverMaxBytes: 1000, maxFrame: 65_536 });
  });

  it("is nothing when the reply grants nothing", () => {
    expect(grantedShaping(asked, reply(undefined))).toBeUndefined();
    expect(grantedShaping(asked, reply("yes"))).toBeUndefined();
    // A grant of nothing at all: no sink is put in front of the socket.
    expect(
      grantedShaping(asked, reply({ padding: "off", jitter_ms: 0, cover_hz: 0, cover_max_bytes: 4096 })),
    ).toBeUndefined();
  });

  it("is nothing when the node's max_frame leaves no room to split padding", () => {
    const small = {
      ...reply({ padding: "pow2", jitter_ms: 0, cover_hz: 0, cover_max_bytes: 4096 }),
      max_frame: 100,
    };
    expect(grantedShaping(asked, small)).toBeUndefined();
  });

  it("never exceeds what the client asked for, whatever the node says", () => {
    expect(
      grantedShaping(
        asked,
        reply({ padding: "padme", jitter_ms: 5000, cover_hz: 1e6, cover_max_bytes: "big" }),
      ),
    ).toEqual({ padding: "off", jitterMs: 20, coverHz: 5, coverMaxBytes: 55, maxFrame: 65_536 });
  });
});
