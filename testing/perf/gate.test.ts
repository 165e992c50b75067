/**
 * The perf gate fails on a planted slowdown. This is the one test that looks at speed, so it
 * only asks something no busy machine can blur: the rig runs the real short echo bench twice,
 * once as is (writing a baseline from that run; the gate passes) and once with every TLS write
 * of the node process spinning ~1 µs per byte (testing/perf/plant-slowdown.ts), which takes
 * OAP's ratio to the raw-TLS floor down several times, far past the 25 % margin. The gate
 * must then say `regressed` for that metric and exit 1.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { tempDir } from "../support/temp-dir.js";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const PLANT = fileURLToPath(new URL("./plant-slowdown.ts", import.meta.url));
const ECHO_KEY = "oap-echo/oap_vs_raw-tls/64B/64";

interface RigRun {
  code: number | null;
  lines: Record<string, unknown>[];
  stderr: string;
}

function runRig(args: string[], env: NodeJS.ProcessEnv = {}): Promise<RigRun> {
  const child = spawn(
    process.execPath,
    ["--conditions=source", "--import", "tsx", "bench/perf/run.ts", ...args],
    { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => {
      const lines = stdout
        .split("\n")
        .filter((line) => line.startsWith("{"))
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      resolve({ code, lines, stderr });
    });
  });
}

const gateLine = (run: RigRun, key: string) =>
  run.lines.find((line) => line.perf === "gate" && line.key === key);

const dir = tempDir("perf-gate-test-");
afterAll(() => dir.remove());

describe("perf gate", () => {
  it("passes as is and fails on a planted slowdown in the node", async () => {
    const baseline = join(dir.path, "baseline.json");
    const common = ["--short", "--only", "oap-echo", "--baseline", baseline, "--gate"];

    const asIs = await runRig([...common, "--out", join(dir.path, "as-is"), "--write-baseline"]);
    expect(asIs.code, asIs.stderr).toBe(0);
    expect(gateLine(asIs, ECHO_KEY)?.verdict).toBe("new");
    const written = JSON.parse(readFileSync(baseline, "utf8")) as Record<string, { ratio: number }>;
    expect(written[ECHO_KEY]?.ratio).toBeGreaterThan(0);

    const slowed = await runRig([...common, "--out", join(dir.path, "slowed")], {
      BENCH_OAP_NODE_IMPORT: PLANT,
    });
    // The plant went into the node children (capabilities off and on), and never into the
    // raw-TLS floor's server.
    const planted = [...slowed.stderr.matchAll(/plant-slowdown: TLS writes in pid (\d+)/g)].map((m) => m[1]);
    const rawPid = /raw-tls at \S+ \(pid (\d+)\)/.exec(slowed.stderr)?.[1];
    expect(planted.length, slowed.stderr).toBeGreaterThan(0);
    expect(rawPid, slowed.stderr).toBeDefined();
    expect(planted).not.toContain(rawPid);
    const echo = gateLine(slowed, ECHO_KEY);
    expect(echo?.verdict, JSON.stringify(echo)).toBe("regressed");
    expect(slowed.lines.at(-1)).toMatchObject({ perf: "summary", gate: "fail" });
    expect(slowed.code).toBe(1);
    expect(existsSync(join(dir.path, "slowed", "report.html"))).toBe(true);
    // For the log: how far the plant moved the ratio.
    console.info(`planted slowdown: ${ECHO_KEY} ${written[ECHO_KEY]?.ratio} → ${String(echo?.ratio)}`);
  }, 120_000);
});
