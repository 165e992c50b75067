/**
 * `npm run sim:dht -- --nodes 10000 --churn 0.2 --lookups 2000 --seed 1 --loss 0.01 [--keys 1000] [--refresh 16] [--join ideal|bootstrap]`
 *
 * Simulates a Kademlia network of `DhtNode`s in one process on virtual time (see network.ts
 * for the latency model) twice from the same seed: with the core's per-contact adaptive
 * timeouts and hedging, and with a fixed 5 s timeout and no hedging. Progress goes to stderr;
 * one JSON line per configuration goes to stdout.
 */
import { spawnSync } from "node:child_process";
import { parseArgs } from "node:util";
import { ADAPTIVE, FIXED, HOP_DEFINITION, simulate } from "./simulate.js";

// Cap the heap: the run retains ~300 MiB at 10k nodes, but V8 lets garbage grow the process
// towards 1 GiB unless told otherwise. Re-run ourselves under the cap.
if (!process.execArgv.some((a) => a.startsWith("--max-old-space-size"))) {
  const child = spawnSync(
    process.execPath,
    ["--max-old-space-size=512", ...process.execArgv, ...process.argv.slice(1)],
    { stdio: "inherit" },
  );
  process.exit(child.status ?? 1);
}

const { values } = parseArgs({
  options: {
    nodes: { type: "string", default: "10000" },
    churn: { type: "string", default: "0.2" },
    lookups: { type: "string", default: "2000" },
    keys: { type: "string", default: "1000" },
    seed: { type: "string", default: "1" },
    loss: { type: "string", default: "0.01" },
    refresh: { type: "string", default: "16" },
    join: { type: "string", default: "ideal" },
  },
});

const num = (name: string, raw: string | undefined): number => {
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number, got ${raw}`);
  return n;
};

const params = {
  nodes: Math.floor(num("nodes", values.nodes)),
  churn: num("churn", values.churn),
  lookups: Math.floor(num("lookups", values.lookups)),
  keys: Math.max(1, Math.floor(num("keys", values.keys))),
  seed: Math.floor(num("seed", values.seed)),
  loss: num("loss", values.loss),
  refreshBuckets: Math.floor(num("refresh", values.refresh)),
  initialTables: values.join === "bootstrap" ? ("bootstrap" as const) : ("ideal" as const),
};
if (values.join !== "ideal" && values.join !== "bootstrap") throw new Error("--join is ideal or bootstrap");

const log = (line: string) => process.stderr.write(`${line}\n`);
log(`dht sim: seed ${params.seed}; hop = ${HOP_DEFINITION}`);
log(
  `initial tables: ${params.initialTables} (${params.initialTables === "ideal" ? "steady-state k-buckets from the true population; churn joiners bootstrap for real" : "every node joins by bootstrap"})`,
);
log(
  "latency: per-pair RTT uniform 10-150 ms, one-way rtt/2 ±10%, per-message loss as --loss; dead nodes never answer",
);
for (const config of [ADAPTIVE, FIXED]) {
  const result = await simulate({ ...params, config, progress: log });
  process.stdout.write(`${JSON.stringify(result)}\n`);
  log(`[${config.name}] rss ${Math.round(process.memoryUsage().rss / 2 ** 20)} MiB`);
}
