import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { Command, InvalidArgumentError } from "commander";
import { type ScaleOutCluster, startScaleOutCluster } from "./harness.js";
import { runKillScenarios } from "./kill-scenarios.js";

/**
 * `npm run cluster`: Omnigate scaled out on 127.0.0.1 (docs/deployment.md): three nodes on
 * OpenStack Swift (S3), a NATS JetStream cluster and Redis, all started here and stopped on
 * Ctrl-C. `--kill-test` runs the kill scenarios instead (the full form of
 * testing/cluster/kill.test.ts) and prints their report as one JSON line.
 */
const program = new Command("cluster")
  .description("Start a 3-node Omnigate cluster on Swift, NATS JetStream and Redis (all on 127.0.0.1).")
  .option("--nodes <n>", "Omnigate nodes", int, 3)
  .option("--dir <dir>", "keep the nodes' files here (default: a temp dir removed on exit)")
  .option("--kill-test", "run the kill scenarios under load, print the report and exit")
  .option(
    "--phase-seconds <n>",
    "with --kill-test: load before the first kill and during each fault",
    int,
    30,
  );

function int(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("expected a positive integer");
  return n;
}

const log = (line: string) => process.stderr.write(`cluster: ${line}\n`);

async function main(): Promise<void> {
  const o = program.parse().opts<{ nodes: number; dir?: string; killTest?: boolean; phaseSeconds: number }>();
  const dir = o.dir ? resolve(o.dir) : undefined;
  if (dir) mkdirSync(dir, { recursive: true });
  const cluster = await startScaleOutCluster({ nodes: o.nodes, log, ...(dir ? { dir } : {}) });
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    log("stopping ...");
    await cluster.stop();
    process.exit(code);
  };
  process.on("SIGINT", () => void stop(0));
  process.on("SIGTERM", () => void stop(0));
  if (o.killTest) {
    const report = await runKillScenarios(cluster, { phaseMs: o.phaseSeconds * 1000, log }).catch(
      async (err: unknown) => {
        await cluster.stop();
        throw err;
      },
    );
    process.stdout.write(`${JSON.stringify(report)}\n`);
    const failedCalls = report.record.failures.filter((f) => !f.retryable).length;
    const ok = report.lostSends.length === 0 && report.lostObjects.length === 0 && failedCalls === 0;
    log(ok ? "kill test passed" : "kill test FAILED: see lostSends, lostObjects and failures");
    await stop(ok ? 0 : 1);
    return;
  }
  printSummary(cluster, dir);
}

function printSummary(cluster: ScaleOutCluster, dir: string | undefined): void {
  const { omnigate } = cluster;
  const lines = [
    "",
    "Omnigate cluster is up (Ctrl-C stops everything):",
    ...omnigate.urls.map((url, i) => `  node${i + 1}   ${url}   admin ${omnigate.node(i)?.adminUrl ?? "-"}`),
    `  storage  s3 on OpenStack Swift ${cluster.swift.endpoint} (3 storage nodes, 3 replicas)`,
    `  mailbox  jetstream on ${cluster.nats.urls.join(", ")} (R3)`,
    `  quotas and revocations  ${cluster.redis.url}`,
    "",
    "Reach it with the SDK (one URL is enough: HELLO lists the others):",
    `  export RON_NODE_URL=${omnigate.urls[0]}`,
    `  export RON_CA_FILE=${omnigate.caFile}`,
    `  export RON_CAP=${omnigate.devCap}`,
    "  npm run example:echo",
    "",
  ];
  if (dir) {
    const env = `RON_NODE_URL=${omnigate.urls[0]}\nRON_CA_FILE=${omnigate.caFile}\nRON_CAP=${omnigate.devCap}\n`;
    writeFileSync(join(dir, "client.env"), env);
    lines.push(`The same three variables are in ${join(dir, "client.env")}.`, "");
  }
  process.stdout.write(lines.join("\n"));
}

main().catch((err: unknown) => {
  process.stderr.write(`cluster: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
