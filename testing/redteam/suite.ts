import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { connect } from "@omnigate/sdk";
import { type NodeProcess, startNodeProcess } from "../support/node-process.js";
import { openFdCount, rssBytes } from "../support/proc-stats.js";
import { tempDir } from "../support/temp-dir.js";
import { REDTEAM_CASES, REDTEAM_FLAGS, type RedteamCase } from "./cases.js";
import { ECHO, sleep, type Target } from "./wire.js";

/** After the whole suite the node's RSS may be at most this much above where it started. */
export const RSS_GROWTH_BOUND = 96 * 1024 * 1024;

/** Echo quota for the storm: burst 3 per tenant; tenant 0 (every other case) is exempt. */
const QUOTA_TOML = `
[quotas.apps."0x0101"]
rate = 1
burst = 3

[[quotas.tenants]]
tenant = "0x0"
app = "0x0101"
rate = 1000000
burst = 1000000
`;

export interface CaseResult {
  name: string;
  group: string;
  expected: string;
  observed: string;
  pass: boolean;
}

export interface Health {
  hello: boolean;
  echo: boolean;
  rssStart: number;
  rssEnd: number;
  fdsStart: number;
  fdsEnd: number;
}

export interface RedteamNode extends Target {
  stop(): Promise<void>;
}

/** A fresh node in its own process, configured as the cases expect. */
export async function startRedteamNode(): Promise<RedteamNode> {
  const dir = tempDir("omnigate-redteam-");
  const config = join(dir.path, "redteam.toml");
  writeFileSync(config, QUOTA_TOML);
  let node: NodeProcess;
  try {
    node = await startNodeProcess(["--config", config, ...REDTEAM_FLAGS]);
  } catch (err) {
    dir.remove();
    throw err;
  }
  return {
    oapUrl: node.oapUrl,
    wsUrl: node.wsUrl,
    adminUrl: node.adminUrl,
    caPem: node.caPem,
    pid: node.pid,
    async stop() {
      await node.stop();
      dir.remove();
    },
  };
}

export async function runCase(t: Target, c: RedteamCase): Promise<CaseResult> {
  let observed: string;
  try {
    observed = await c.run(t);
  } catch (err) {
    observed = `attack failed: ${(err as Error).message}`;
  }
  return { name: c.name, group: c.group, expected: c.expected, observed, pass: observed === c.expected };
}

/** HELLO and echo through the SDK: the node still serves after the attacks. */
async function stillServes(t: Target): Promise<{ hello: boolean; echo: boolean }> {
  const client = await connect(t.oapUrl, { ca: t.caPem });
  try {
    const hello = client.hello.versions.includes(1);
    const res = await client.request(ECHO, { body: "still here" });
    return { hello, echo: res.code === 200 && Buffer.from(res.body).toString() === "still here" };
  } finally {
    await client.close();
  }
}

/** Open fds settle once the node's time limits have closed what the attacks left behind. */
async function settledFds(pid: number, target: number, limitMs: number): Promise<number> {
  const until = Date.now() + limitMs;
  let fds = openFdCount(pid);
  while (fds > target && Date.now() < until) {
    await sleep(250);
    fds = openFdCount(pid);
  }
  return fds;
}

/** Runs every case in order, then the health checks. `onResult` sees each result as it lands. */
export async function runSuite(
  t: Target,
  onResult: (r: CaseResult) => void = () => {},
  cases: RedteamCase[] = REDTEAM_CASES,
): Promise<{ results: CaseResult[]; health: Health }> {
  // Baseline after one client has come and gone, so lazily made handles are counted in both.
  await stillServes(t);
  await sleep(200);
  const rssStart = rssBytes(t.pid);
  const fdsStart = openFdCount(t.pid);
  const results: CaseResult[] = [];
  for (const c of cases) {
    const r = await runCase(t, c);
    results.push(r);
    onResult(r);
  }
  const served = await stillServes(t);
  const fdsEnd = await settledFds(t.pid, fdsStart, 15_000);
  return { results, health: { ...served, rssStart, rssEnd: rssBytes(t.pid), fdsStart, fdsEnd } };
}

/** case → expected → observed, one line each. */
export function table(results: CaseResult[]): string {
  const rows = [
    ["", "case", "expected", "observed"],
    ...results.map((r) => [r.pass ? "ok" : "FAIL", r.name, r.expected, r.observed]),
  ];
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((row) => (row[i] ?? "").length)));
  return rows
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}
