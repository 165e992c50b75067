import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Command, InvalidArgumentError } from "commander";
import { runMultiTenant } from "./multi-tenant/run.js";

/**
 * The multi-tenant load test from the command line (`npm run load:tenants`): starts its own
 * node and backend, prints one JSON line per quota class (`"load": "tenant-class"`) and one
 * for the run (`"load": "summary"`) on stdout, progress on stderr; with --out, also writes
 * tenants.jsonl (one line per tenant) and summary.json there.
 */
const program = new Command("load:tenants")
  .description("Multi-tenant load test: many tenants with different quotas, mixed apps, Poisson arrivals.")
  .option("--tenants <n>", "tenants", int, 1000)
  .option("--seconds <n>", "loaded phase length", int, 60)
  .option("--unloaded-seconds <n>", "unloaded (baseline) phase length", int, 15)
  .option("--unloaded-rate <n>", "requests/s in all during the unloaded phase", int, 150)
  .option("--node-max-inflight <n>", "the node's limits.node_max_inflight", int, 200)
  .option("--hold-ms <ms>", "hold time of echo-delay requests", int, 1000)
  .option("--connections <n>", "SDK connections", int, 16)
  .option("--seed <n>", "seed of arrivals and mixes", int, 22)
  .option("--out <dir>", "also write tenants.jsonl and summary.json here");

function int(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("expected a positive integer");
  return n;
}

async function main(): Promise<void> {
  const o = program.parse().opts<{
    tenants: number;
    seconds: number;
    unloadedSeconds: number;
    unloadedRate: number;
    nodeMaxInflight: number;
    holdMs: number;
    connections: number;
    seed: number;
    out?: string;
  }>();
  const report = await runMultiTenant({
    tenants: o.tenants,
    loadedSeconds: o.seconds,
    unloadedSeconds: o.unloadedSeconds,
    unloadedRate: o.unloadedRate,
    nodeMaxInflight: o.nodeMaxInflight,
    holdMs: o.holdMs,
    connections: o.connections,
    seed: o.seed,
    log: (line) => process.stderr.write(`load:tenants: ${line}\n`),
  });
  for (const c of report.classes) process.stdout.write(`${JSON.stringify(c)}\n`);
  process.stdout.write(`${JSON.stringify(report.summary)}\n`);
  if (o.out) {
    mkdirSync(o.out, { recursive: true });
    writeFileSync(join(o.out, "tenants.jsonl"), report.tenants.map((t) => `${JSON.stringify(t)}\n`).join(""));
    writeFileSync(
      join(o.out, "summary.json"),
      `${JSON.stringify({ summary: report.summary, classes: report.classes }, null, 2)}\n`,
    );
    process.stderr.write(`load:tenants: wrote ${join(o.out, "tenants.jsonl")} and summary.json\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`load:tenants: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
