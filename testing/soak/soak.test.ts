/**
 * The soak harness's CI form (issue 22): a 2-minute run with crashes of the backend and of
 * Redis. It asserts the verdicts `availability`, `no_refusals_outside_faults`, `no_hung` and
 * `eventloop_p99_reported`, and that `fds_flat` and `rss_growth` were judged (a value, not
 * "not enough samples"; whether they pass is for the long runs); and, as behaviour: no body
 * mismatch, no late settle, each injected dependency was crashed and restarted and a request
 * using it succeeded after the restart, capabilities were revoked and refreshed, samples were
 * taken and the report holds its plots. No timing is asserted.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { tempDir } from "../support/temp-dir.js";
import { CHART_TITLES } from "./report.js";
import { runSoak } from "./soak.js";

const DURATION_MS = 120_000;
const out = tempDir("omnigate-soak-test-");
afterAll(() => out.remove());

describe("soak harness, 2 minutes", () => {
  it(
    "keeps every request answered through backend and Redis crashes, and writes its report",
    async () => {
      const lines: string[] = [];
      const { summary, files } = await runSoak({
        durationMs: DURATION_MS,
        outDir: out.path,
        seed: 7,
        // A loaded 2-core CI machine runs the node, the backend, Redis and this harness.
        rate: 100,
        say: (line) => lines.push(line),
      });
      const why = JSON.stringify(
        {
          not_successful: summary.requests.not_successful.slice(0, 10),
          faults: summary.faults,
          log: lines.filter((l) => !l.startsWith("[")),
        },
        null,
        1,
      );

      const v = summary.verdicts;
      // Every request ended: none hung, the watchdog never fired.
      expect(v.no_hung, why).toMatchObject({ pass: true, value: 0 });
      expect(summary.requests.all.hung, why).toBe(0);
      expect(summary.requests.late_settles, why).toBe(0);
      expect(summary.requests.body_mismatches, why).toBe(0);
      // Admitted requests outside injected faults: ≥ 99.99 % (a failure here is a node bug).
      const clean = summary.requests.outside_faults;
      expect(clean.success, why).toBeGreaterThan(2_000);
      expect(v.availability.pass, why).toBe(true);
      expect(summary.requests.availability_outside_faults ?? 0, why).toBeGreaterThanOrEqual(0.9999);
      // The quotas never refuse: no 429/503 outside an injected fault.
      expect(v.no_refusals_outside_faults, why).toMatchObject({ pass: true, value: 0 });
      expect(clean.refused, why).toBe(0);
      // FDs and RSS were judged on enough samples after warm-up (pass or fail is for long runs).
      expect(v.fds_flat.reason, why).toBeUndefined();
      expect(v.fds_flat.value, why).not.toBeNull();
      expect(v.rss_growth.reason, why).toBeUndefined();
      expect(v.rss_growth.value, why).not.toBeNull();

      // Each dependency crashed and came back, and traffic using it recovered: a request that
      // uses it, started after the restart, succeeded (recovered_after_s is set only then).
      for (const dep of ["backend", "redis"] as const) {
        const windows = summary.faults.filter((f) => f.dependency === dep);
        expect(windows.length, `${dep}: ${why}`).toBeGreaterThanOrEqual(1);
        for (const w of windows) {
          expect(w.ready_at_s, `${dep} restarted: ${why}`).not.toBeNull();
          expect(w.recovered_after_s, `${dep} traffic recovered after the restart: ${why}`).not.toBeNull();
        }
      }
      // Requests during the faults got answers (errors), not silence: counted, none hung.
      expect(
        summary.requests.during_fault.failed + summary.requests.during_fault.success,
        why,
      ).toBeGreaterThan(0);
      // Capabilities were revoked and refreshed along the way.
      expect(summary.requests.capabilities.revoked, why).toBeGreaterThan(0);
      expect(summary.requests.capabilities.minted, why).toBeGreaterThan(
        summary.requests.capabilities.revoked,
      );
      expect(summary.requests.subscription.delivered, why).toBeGreaterThan(0);

      // Samples were taken and the files hold them.
      expect(summary.run.samples).toBeGreaterThanOrEqual(DURATION_MS / 1000 / 3);
      const sampleLines = readFileSync(files.samples, "utf8").trim().split("\n");
      expect(sampleLines.length).toBe(summary.run.samples);
      const first = JSON.parse(sampleLines[0] as string) as Record<string, unknown>;
      for (const key of [
        "t",
        "fds",
        "rss_bytes",
        "heap_used_bytes",
        "eventloop_p99_ms",
        "availability",
        "rate",
      ])
        expect(first).toHaveProperty(key);
      expect(summary.resources.eventloop_ms.p99_of_interval_p99).not.toBeNull();
      expect(v.eventloop_p99_reported.pass).toBe(true);
      expect(JSON.parse(readFileSync(files.summary, "utf8")).verdicts).toBeDefined();
      expect(existsSync(join(out.path, "report.html"))).toBe(true);
      const html = readFileSync(files.report, "utf8");
      expect(html).not.toMatch(/<script/i);
      expect(html.match(/<svg /g)?.length).toBe(CHART_TITLES.length);
      for (const title of CHART_TITLES) expect(html).toContain(title);
      expect(html).toMatch(/<polyline [^>]*points="[\d.]+,[\d.]+ [\d.]+,[\d.]+/);
    },
    DURATION_MS + 120_000,
  );
});
