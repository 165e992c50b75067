/**
 * The verdicts of summarize() on made-up samples and counts (no processes): refusals outside
 * faults fail, RSS growth is not judged on overlapping windows, FD flatness is judged after
 * the warm-up.
 */
import { describe, expect, it } from "vitest";
import type { Sample } from "./sampler.js";
import { type SummaryInput, summarize } from "./summary.js";
import { Tally } from "./tally.js";

function sample(t: number, fds: number, rss = 100 * 2 ** 20): Sample {
  return {
    t,
    at: new Date(0).toISOString(),
    fds,
    rss_bytes: rss,
    heap_used_bytes: 40 * 2 ** 20,
    eventloop_p99_ms: 10,
    eventloop_max_ms: 20,
    harness_eventloop_p99_ms: 5,
    requests: 0,
    rate: 0,
    success: 0,
    refused: 0,
    failed: 0,
    hung: 0,
    during_fault: 0,
    availability: null,
    availability_ex_fault: null,
    outstanding: 0,
    faults: [],
  };
}

function input(samples: Sample[], elapsedMs: number, tally = new Tally()): SummaryInput {
  if (tally.total.all.success === 0) tally.add("echo", "success", false, 1);
  return {
    startedAt: new Date(0),
    plannedMs: elapsedMs,
    elapsedMs,
    seed: 1,
    rate: 100,
    sampleIntervalMs: 1000,
    deadlineMs: 10_000,
    hangGraceMs: 5_000,
    faultGraceMs: 3_000,
    plan: undefined,
    nodeFlags: [],
    tally,
    windows: [],
    samples,
    subDelivered: 0,
    subEvents: [],
    mismatches: 0,
    capMinted: 0,
    capRevoked: 0,
    capResends: 0,
    scrapeErrors: 0,
  };
}

/** One sample a second over `seconds`, FDs from fds(t). */
const run = (seconds: number, fds: (t: number) => number, rss?: (t: number) => number) =>
  Array.from({ length: seconds }, (_, k) => sample(k + 1, fds(k + 1), rss?.(k + 1)));

describe("soak summary verdicts", () => {
  it("fails no_refusals_outside_faults on a refusal outside a fault, not on one during a fault", () => {
    const during = new Tally();
    during.add("app", "refused", true, 5, "503 backend_unavailable");
    const a = summarize(
      input(
        run(120, () => 300),
        120_000,
        during,
      ),
    );
    expect(a.verdicts.no_refusals_outside_faults).toMatchObject({ pass: true, value: 0 });
    expect(a.pass).toBe(true);

    const outside = new Tally();
    outside.add("echo", "refused", false, 5, "429 rate_limited");
    const b = summarize(
      input(
        run(120, () => 300),
        120_000,
        outside,
      ),
    );
    expect(b.verdicts.no_refusals_outside_faults).toMatchObject({ pass: false, value: 1 });
    expect(b.verdicts.availability.pass).toBe(true);
    expect(b.pass).toBe(false);
  });

  it("does not judge RSS growth when the first and last windows would overlap", () => {
    // 10 s run, warm-up 5 s, samples at 1–8 s: 4 after the warm-up, fewer than 2 × 3.
    const s = summarize(
      input(
        run(8, () => 300),
        10_000,
      ),
    );
    expect(s.verdicts.rss_growth.pass).toBe(false);
    expect(s.verdicts.rss_growth.value).toBeNull();
    expect(s.verdicts.rss_growth.reason).toMatch(/at least 6/);
    expect(s.pass).toBe(false);
  });

  it("judges RSS growth on non-overlapping windows after warm-up", () => {
    const s = summarize(
      input(
        run(
          120,
          () => 300,
          (t) => (t < 100 ? 100 : 120) * 2 ** 20,
        ),
        120_000,
      ),
    );
    expect(s.verdicts.rss_growth.reason).toBeUndefined();
    expect(s.verdicts.rss_growth.value).toBeCloseTo(0.2, 4);
    expect(s.verdicts.rss_growth.pass).toBe(false);
  });

  it("judges FD flatness after the warm-up: a climb in the warm-up passes, a climb after fails", () => {
    // The idle object-file cache fills in the first minute of a 2-minute run, then stays level.
    const warm = summarize(
      input(
        run(120, (t) => 60 + Math.min(256, t * 4)),
        120_000,
      ),
    );
    expect(warm.verdicts.fds_flat).toMatchObject({ pass: true, value: 316, limit: 316 + 16 });
    expect(warm.resources.fds.warmup_s).toBe(60);

    const leak = summarize(
      input(
        run(120, (t) => 316 + Math.max(0, t - 60)),
        120_000,
      ),
    );
    expect(leak.verdicts.fds_flat.pass).toBe(false);
  });

  it("does not judge FD flatness with fewer than 2 samples after warm-up", () => {
    const s = summarize(input([sample(1, 300)], 2_000));
    expect(s.verdicts.fds_flat).toMatchObject({ pass: false, value: null });
    expect(s.verdicts.fds_flat.reason).toMatch(/at least 2/);
  });
});
