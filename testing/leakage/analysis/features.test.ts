import { describe, expect, it } from "vitest";
import { FEATURE_NAMES, traceFeatures } from "./features.js";
import type { Trace, TracePacket } from "./trace.js";

function trace(packets: TracePacket[]): Trace {
  return { label: "x", session: "s", packets };
}

function named(vector: number[]): Map<string, number> {
  return new Map(FEATURE_NAMES.map((name, i) => [name, vector[i] as number]));
}

describe("traceFeatures", () => {
  it("has a fixed length with unique names, whatever the trace", () => {
    expect(new Set(FEATURE_NAMES).size).toBe(FEATURE_NAMES.length);
    const long = trace(
      Array.from({ length: 500 }, (_, i) => ({ t: i * 3, dir: i % 7 === 0 ? 1 : -1, bytes: 50 + i * 40 })),
    );
    for (const t of [trace([]), trace([{ t: 0, dir: -1, bytes: 5 }]), long]) {
      expect(traceFeatures(t)).toHaveLength(FEATURE_NAMES.length);
      expect(traceFeatures(t).every(Number.isFinite)).toBe(true);
    }
  });

  it("maps an empty trace to zeros", () => {
    expect(traceFeatures(trace([])).every((v) => v === 0)).toBe(true);
  });

  it("computes counts, totals, bursts, sizes and timing of a known trace", () => {
    const f = named(
      traceFeatures(
        trace([
          { t: 0, dir: 1, bytes: 100 },
          { t: 10, dir: -1, bytes: 1000 },
          { t: 12, dir: -1, bytes: 500 },
          { t: 30, dir: 1, bytes: 50 },
        ]),
      ),
    );
    const expected: Record<string, number> = {
      packets: 4,
      packets_out: 2,
      packets_in: 2,
      bytes: 1650,
      bytes_out: 150,
      bytes_in: 1500,
      duration_ms: 30,
      bursts: 3,
      bursts_out: 2,
      bursts_in: 1,
      burst_in_bytes_max: 1500,
      burst_in_packets_max: 2,
      burst_out_bytes_mean: 75,
      first_0_signed_bytes: 100,
      first_1_signed_bytes: -1000,
      first_2_signed_bytes: -500,
      first_3_signed_bytes: 50,
      first_4_signed_bytes: 0,
      size_log2_out_5: 1, // 50 B
      size_log2_out_6: 1, // 100 B
      size_log2_in_8: 1, // 500 B
      size_log2_in_9: 1, // 1000 B
      size_log2_in_14: 0,
      cumul_49: 150 - 1500,
      iat_mean: 10,
      iat_median: 10,
      iat_max: 18,
      iat_out_mean: 30,
      time_bin_out_0_bytes: 100,
      time_bin_out_19_bytes: 50,
      time_bin_in_6_bytes: 1000,
      time_bin_in_8_bytes: 500,
      out_position_mean: 1.5,
    };
    for (const [name, value] of Object.entries(expected)) {
      expect(f.has(name), name).toBe(true);
      expect(f.get(name), name).toBeCloseTo(value, 9);
    }
  });

  it("samples CUMUL along cumulative bytes", () => {
    // 1,000 bytes out then 1,000 in: the curve rises to +1,000 at the midpoint, then falls to 0.
    const f = named(
      traceFeatures(
        trace([
          { t: 0, dir: 1, bytes: 1000 },
          { t: 1, dir: -1, bytes: 1000 },
        ]),
      ),
    );
    expect(f.get("cumul_0")).toBeCloseTo(40, 9); // x = 2,000 × 1/50
    expect(f.get("cumul_24")).toBeCloseTo(1000, 9); // x = 1,000
    expect(f.get("cumul_49")).toBeCloseTo(0, 9);
  });
});
