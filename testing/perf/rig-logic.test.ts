/**
 * The perf rig's pure parts: bench lines → metrics, the gate's verdicts, baseline updates and
 * the report's escaping. No benchmark runs here (gate.test.ts runs one).
 */
import { describe, expect, it } from "vitest";
import { updatedBaseline } from "../../bench/perf/baseline.js";
import { selectBenches } from "../../bench/perf/benches.js";
import { gate } from "../../bench/perf/gate.js";
import { medianByKey, metricsOf } from "../../bench/perf/normalise.js";
import { reportHtml } from "../../bench/perf/report-html.js";

describe("normalise", () => {
  it("gives each bench's ratio lines a stable key and skips the rest", () => {
    const echo = metricsOf({
      name: "oap-echo",
      lines: [
        { bench: "oap-echo", system: "oap", body_bytes: 64, inflight: 64, rps: 1000 },
        { bench: "oap-echo", compare: "oap/raw-tls", body_bytes: 64, inflight: 64, rps_ratio: 0.9 },
      ],
    });
    expect(echo).toEqual([
      {
        key: "oap-echo/oap_vs_raw-tls/64B/64",
        bench: "oap-echo",
        metric: "oap_vs_raw-tls",
        config: "64B/64",
        ratio: 0.9,
        higher_is_better: true,
      },
    ]);
    const mailbox = metricsOf({
      name: "mailbox-sqlite",
      lines: [{ bench: "mailbox", compare: "mixed/raw-sqlite-insert", body_bytes: 100, ratio: 0.5 }],
    });
    expect(mailbox.map((m) => m.key)).toEqual(["mailbox-sqlite/mixed_vs_raw-sqlite-insert/100B"]);
    const storage = metricsOf({
      name: "storage",
      lines: [
        { bench: "storage", compare: "get_throughput", system: "oap", baseline: "https", ratio: 1.1 },
        { bench: "storage", compare: "first_byte_p95", system: "oap", p95_ms: 60, https_p95_ms: 70 },
        { bench: "storage", measure: "outboard", share: 0.001 },
      ],
    });
    expect(storage.map((m) => m.key)).toEqual(["storage/oap_vs_https/get_throughput"]);
  });
});

describe("gate", () => {
  const metric = (key: string, ratio: number) => ({
    key,
    bench: key.split("/")[0] as string,
    metric: "m",
    config: "c",
    ratio,
    higher_is_better: true as const,
  });
  const at = "2026-12-07T00:00:00.000Z";

  it("says ok, regressed, new and missing, with per-metric margins", () => {
    const results = gate(
      [metric("a/x", 0.76), metric("a/y", 0.74), metric("a/z", 0.5), metric("a/new", 1)],
      {
        "a/x": { ratio: 1, measured_at: at, note: "" },
        "a/y": { ratio: 1, measured_at: at, note: "" },
        "a/z": { ratio: 1, measured_at: at, note: "", margin: 0.6 },
        "a/gone": { ratio: 1, measured_at: at, note: "" },
        "b/not-run": { ratio: 1, measured_at: at, note: "" },
      },
      0.25,
      ["a"],
    );
    expect(Object.fromEntries(results.map((r) => [r.key, r.verdict]))).toEqual({
      "a/x": "ok",
      "a/y": "regressed",
      "a/z": "ok",
      "a/new": "new",
      "a/gone": "missing",
    });
    expect(results.find((r) => r.key === "a/y")).toMatchObject({ floor: 0.75, change: -0.26 });
  });

  it("writes a baseline that keeps hand-set margins and other benches' entries", () => {
    const next = updatedBaseline(
      {
        "a/x": { ratio: 1, measured_at: at, note: "old", margin: 0.4 },
        "b/y": { ratio: 2, measured_at: at, note: "old" },
      },
      [metric("a/x", 0.8)],
      "short run",
      new Date("2026-12-08T00:00:00Z"),
    );
    expect(next).toEqual({
      "a/x": { ratio: 0.8, measured_at: "2026-12-08T00:00:00.000Z", note: "short run", margin: 0.4 },
      "b/y": { ratio: 2, measured_at: at, note: "old" },
    });
  });
});

describe("rig", () => {
  it("selects benches by name and refuses unknown ones", () => {
    expect(selectBenches("storage,oap-echo").map((b) => b.name)).toEqual(["oap-echo", "storage"]);
    expect(() => selectBenches("nope")).toThrow(/unknown bench nope/);
  });

  it("escapes text in the report", () => {
    const html = reportHtml({
      generatedAt: new Date(0),
      mode: "short",
      defaultMargin: 0.25,
      baselineFile: "<b>.json",
      runs: [{ name: "x<y", args: ["--a"], exitCode: 0, seconds: 1 }],
      results: [{ key: "k/<script>", bench: "k", verdict: "new", ratio: 1 }],
    });
    expect(html).not.toContain("<script>");
    expect(html).not.toContain("<b>.json");
    expect(html).toContain("&#60;script&#62;");
  });
});

describe("repeats", () => {
  it("gate the median ratio of each key, keys in first-seen order", () => {
    const metric = (key: string, ratio: number) => ({
      key,
      bench: key.split("/")[0] as string,
      metric: "a_vs_b",
      config: "64B/64",
      ratio,
      higher_is_better: true as const,
    });
    const medians = medianByKey([
      metric("echo/a_vs_b/64B/64", 0.9),
      metric("proxy/a_vs_b/64B/64", 0.2),
      metric("echo/a_vs_b/64B/64", 0.3),
      metric("proxy/a_vs_b/64B/64", 0.4),
      metric("echo/a_vs_b/64B/64", 0.6),
    ]);
    expect(medians.map((m) => [m.key, m.ratio])).toEqual([
      ["echo/a_vs_b/64B/64", 0.6],
      ["proxy/a_vs_b/64B/64", 0.3],
    ]);
  });
});
