/**
 * The perf rig's pure parts: bench lines → metrics (ratios and server CPU per request), the
 * gate's verdicts in both directions, baseline updates, and the report (escaping, plots drawn
 * from the raw lines). No benchmark runs here (gate.test.ts runs one).
 */
import { readFileSync } from "node:fs";
import { NODE_RUNTIME_FLAGS } from "@omnigate/node";
import { describe, expect, it } from "vitest";
import { updatedBaseline } from "../../bench/perf/baseline.js";
import { selectBenches } from "../../bench/perf/benches.js";
import { gate, limitOf } from "../../bench/perf/gate.js";
import { medianByKey, metricsOf } from "../../bench/perf/normalise.js";
import { reportHtml } from "../../bench/perf/report-html.js";
import { reportInputOf } from "../../bench/perf/report-input.js";
import { configGroups } from "../../bench/perf/report-samples.js";

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
        measure: "ratio",
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
    measure: "ratio" as const,
    ratio,
    higher_is_better: true,
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
    expect(results.find((r) => r.key === "a/y")).toMatchObject({ limit: 0.75, change: -0.26 });
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
    // Benches that start a cluster of real servers run in full runs, or when named.
    expect(selectBenches(undefined).map((b) => b.name)).toContain("storage-s3");
    expect(selectBenches(undefined, true).map((b) => b.name)).not.toContain("storage-s3");
    expect(selectBenches(undefined, true).map((b) => b.name)).not.toContain("mailbox-jetstream");
    expect(selectBenches("storage-s3", true).map((b) => b.name)).toEqual(["storage-s3"]);
  });

  it("runs the S3 GET bench's client with the node's heap flags, from npm and from the rig", () => {
    const script: string = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"))
      .scripts["bench:storage-s3"];
    const spec = selectBenches("storage-s3")[0];
    expect(NODE_RUNTIME_FLAGS.length).toBeGreaterThan(0);
    for (const flag of NODE_RUNTIME_FLAGS) {
      expect(script.split(/\s+/)).toContain(flag);
      expect(spec?.nodeFlags).toContain(flag);
    }
  });

  it("escapes text in the report", () => {
    const html = reportHtml({
      generatedAt: new Date(0),
      mode: "short",
      defaultMargin: 0.25,
      baselineFile: "<b>.json",
      runs: [{ name: "x<y", round: 1, args: ["--a"], exitCode: 0, seconds: 1 }],
      repeat: 1,
      lines: [],
      results: [{ key: "k/<script>", bench: "k", verdict: "new", ratio: 1, higher_is_better: true }],
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
      measure: "ratio" as const,
      ratio,
      higher_is_better: true,
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

describe("server CPU per request", () => {
  const result = (system: string, server_cpu_us?: number) => ({
    bench: "oap-echo",
    system,
    body_bytes: 64,
    inflight: 64,
    rps: 1000,
    ...(server_cpu_us === undefined ? {} : { server_cpu_us }),
  });

  it("derives system over floor from the run's result lines, lower is better", () => {
    const metrics = metricsOf({
      name: "oap-echo",
      lines: [
        result("raw-tls", 0.8),
        result("oap", 2.4),
        // Another configuration of the same systems: not to be mixed in.
        { ...result("raw-tls", 40), body_bytes: 16384 },
        { bench: "oap-echo", compare: "oap/raw-tls", body_bytes: 64, inflight: 64, rps_ratio: 0.4 },
      ],
    });
    expect(metrics.map((m) => [m.key, m.ratio, m.higher_is_better, m.measure])).toEqual([
      ["oap-echo/oap_vs_raw-tls/64B/64", 0.4, true, "ratio"],
      ["oap-echo/oap_vs_raw-tls/64B/64/server_cpu_ratio", 3, false, "server_cpu_ratio"],
    ]);
  });

  it("takes the comparison line's own server_cpu_ratio when it has one", () => {
    const metrics = metricsOf({
      name: "oap-echo",
      lines: [
        {
          bench: "oap-echo",
          compare: "wss/oap",
          body_bytes: 64,
          inflight: 64,
          rps_ratio: 1,
          server_cpu_ratio: 1.39,
        },
      ],
    });
    expect(metrics.map((m) => [m.key, m.ratio])).toEqual([
      ["oap-echo/wss_vs_oap/64B/64", 1],
      ["oap-echo/wss_vs_oap/64B/64/server_cpu_ratio", 1.39],
    ]);
  });

  it("emits nothing when either side lacks server_cpu_us", () => {
    const metrics = metricsOf({
      name: "oap-echo",
      lines: [
        result("raw-tls"),
        result("oap", 2.4),
        { bench: "oap-echo", compare: "oap/raw-tls", body_bytes: 64, inflight: 64, rps_ratio: 0.4 },
        // A storage-style comparison names no result lines.
        { bench: "storage", compare: "get_throughput", system: "oap", baseline: "https", ratio: 1.1 },
      ],
    });
    expect(metrics.map((m) => m.measure)).toEqual(["ratio", "ratio"]);
  });

  it("honours a bench line that says its ratio is lower-is-better", () => {
    const [m] = metricsOf({
      name: "x",
      lines: [{ compare: "a/b", ratio: 1.5, higher_is_better: false }],
    });
    expect(m?.higher_is_better).toBe(false);
  });
});

describe("gate, both directions", () => {
  const at = "2026-12-07T00:00:00.000Z";
  const m = (key: string, ratio: number, higher_is_better: boolean) => ({
    key,
    bench: "a",
    metric: "m",
    config: "",
    measure: higher_is_better ? ("ratio" as const) : ("server_cpu_ratio" as const),
    ratio,
    higher_is_better,
  });

  it("fails a lower-is-better ratio that rose past baseline ÷ (1 − margin), never one that fell", () => {
    const base = { "a/cpu": { ratio: 2, measured_at: at, note: "", higher_is_better: false as const } };
    const verdict = (ratio: number) => gate([m("a/cpu", ratio, false)], base, 0.25, ["a"])[0];
    expect(verdict(2.6)).toMatchObject({ verdict: "ok", limit: 2.67, higher_is_better: false });
    expect(verdict(2.7)?.verdict).toBe("regressed");
    expect(verdict(1)?.verdict).toBe("ok");
  });

  it("catches a 2× slowdown either way for any margin below 0.5", () => {
    for (const margin of [0, 0.25, 0.45, 0.49]) {
      // Throughput ratio halves, CPU-per-request ratio doubles.
      expect(0.5).toBeLessThan(limitOf(1, margin, true));
      expect(2).toBeGreaterThan(limitOf(1, margin, false));
      const base = {
        "a/up": { ratio: 1, measured_at: at, note: "", margin },
        "a/down": { ratio: 1, measured_at: at, note: "", margin, higher_is_better: false as const },
      };
      const results = gate([m("a/up", 0.49, true), m("a/down", 2.01, false)], base, 0.25, ["a"]);
      expect(results.map((r) => r.verdict)).toEqual(["regressed", "regressed"]);
    }
  });

  it("reports an informational metric as info, with whether it is beyond its limit", () => {
    const base = {
      "a/noisy": { ratio: 1, measured_at: at, note: "", informational: true as const },
      "a/noisy-cpu": {
        ratio: 1,
        measured_at: at,
        note: "",
        informational: true as const,
        higher_is_better: false as const,
      },
    };
    const results = gate([m("a/noisy", 0.1, true), m("a/noisy-cpu", 1.1, false)], base, 0.25, ["a"]);
    expect(results.map((r) => [r.verdict, r.beyond_limit])).toEqual([
      ["info", true],
      ["info", false],
    ]);
  });

  it("keeps direction and informational marks when the baseline is rewritten", () => {
    const next = updatedBaseline(
      {
        "a/cpu": {
          ratio: 2,
          measured_at: at,
          note: "old",
          informational: true,
          informational_why: "swings 3×",
        },
      },
      [m("a/cpu", 2.5, false), m("a/up", 0.5, true)],
      "short run",
      new Date("2026-12-08T00:00:00Z"),
    );
    expect(next).toEqual({
      "a/cpu": {
        ratio: 2.5,
        measured_at: "2026-12-08T00:00:00.000Z",
        note: "short run",
        higher_is_better: false,
        informational: true,
        informational_why: "swings 3×",
      },
      "a/up": { ratio: 0.5, measured_at: "2026-12-08T00:00:00.000Z", note: "short run" },
    });
  });
});

describe("report from the run's JSON lines", () => {
  const tag = (round: number, line: Record<string, unknown>) => ({
    ...line,
    perf_bench: "oap-echo",
    perf_round: round,
  });
  const echo = (round: number, system: string, rps: number, cpu: [number, number]) =>
    tag(round, {
      bench: "oap-echo",
      system,
      body_bytes: 64,
      inflight: 64,
      rps,
      p50_ms: 0.3,
      p99_ms: 2.9,
      client_cpu_us: cpu[0],
      server_cpu_us: cpu[1],
    });
  const jsonl = [
    {
      perf: "start",
      started_at: "2026-12-07T00:00:00.000Z",
      mode: "short",
      repeat: 2,
      margin: 0.25,
      baseline_file: "b.json",
    },
    echo(1, "raw-tls", 390_000, [1.6, 0.84]),
    echo(1, "oap", 160_000, [3.1, 2.5]),
    tag(1, { bench: "oap-echo", compare: "oap/raw-tls", body_bytes: 64, inflight: 64, rps_ratio: 0.41 }),
    { perf: "run", bench: "oap-echo", round: 1, args: ["--quick"], exit_code: 0, seconds: 13.6 },
    echo(2, "raw-tls", 380_000, [1.7, 0.9]),
    echo(2, "oap", 170_000, [3.0, 2.4]),
    tag(2, { bench: "oap-echo", compare: "oap/raw-tls", body_bytes: 64, inflight: 64, rps_ratio: 0.45 }),
    { perf: "run", bench: "oap-echo", round: 2, args: ["--quick"], exit_code: 0, seconds: 13.1 },
    {
      perf: "gate",
      key: "oap-echo/oap_vs_raw-tls/64B/64",
      bench: "oap-echo",
      verdict: "ok",
      higher_is_better: true,
      ratio: 0.43,
      baseline: 0.5,
      margin: 0.4,
      limit: 0.3,
      change: -0.14,
    },
    { perf: "summary", finished_at: "2026-12-07T00:01:00.000Z", mode: "short", repeat: 2 },
  ];

  it("groups the raw result lines per configuration and system, the median over rounds", () => {
    const [group] = configGroups(reportInputOf(jsonl).lines);
    expect(group?.config).toBe("64 B, 64 in flight");
    const oapCpu = group?.byClass.cpu?.find((r) => r.system === "oap");
    expect(oapCpu?.series.map((s) => [s.name, s.median, s.min, s.max])).toEqual([
      ["client", 3.05, 3.0, 3.1],
      ["server", 2.45, 2.4, 2.5],
    ]);
    expect(group?.byClass.throughput?.map((r) => r.system)).toEqual(["raw-tls", "oap"]);
    expect(group?.byClass.latency?.[0]?.series.map((s) => s.name)).toEqual(["p50", "p99"]);
  });

  it("draws throughput, latency, CPU per side and the ratio against baseline, all inline", () => {
    const input = reportInputOf(jsonl);
    expect(input).toMatchObject({ mode: "short", repeat: 2, defaultMargin: 0.25, baselineFile: "b.json" });
    expect(input.runs).toHaveLength(2);
    const html = reportHtml(input);
    for (const label of [
      "Throughput per system",
      "Latency percentiles per system",
      "CPU µs per request, per side",
      'aria-label="ratio over baseline per metric"',
    ]) {
      expect(html).toContain(label);
    }
    expect(html).not.toMatch(/<script|src=|href="http/);
  });
});
