/**
 * Mailbox throughput through the node against its engine's raw floor, measured in the same
 * run: raw SQLite inserts for `sqlite`; for `redis`, raw XADD + XREADGROUP + XACK on one stream
 * (the same stream work the mailbox does, without the node and the scripts); for `jetstream`
 * (a 3-server nats-server cluster started here, R3), raw publish + pull fetch + confirmed ack
 * with the same @nats-io client, body size and concurrency.
 *
 *   npm run bench:mailbox [-- --seconds N | --quick] [--engine sqlite|redis|jetstream] [--body 100] [--inflight 256]
 *                         [--consumers 8] [--recv-max 100] [--profile DIR]
 *                         [--node-args "--auth-mode off ..."]
 *
 * stdout: one JSON line per result, then the ratio line. stderr: progress.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { connect } from "../../packages/sdk/src/index.js";
import { type NatsCluster, startNatsCluster } from "../../testing/support/nats-cluster.js";
import { type RedisProcess, startRedis } from "../../testing/support/redis-server.js";
import { installChildCleanup, stopChildren } from "../support/children.js";
import { profileFlags, startOapNode } from "../support/servers.js";
import { round } from "../support/stats.js";
import { type MixedResult, mixedLoad } from "./mixed-load.js";
import { rawJetStream } from "./raw-jetstream.js";
import { rawRedisStream } from "./raw-redis.js";
import { rawSqliteInserts } from "./raw-sqlite.js";

/** Acceptance: mixed msgs/s through the node, and p99 (ms) at half that rate. */
const TARGET = { msgsPerSec: 20_000, p99MsAtHalfRate: 50 } as const;
const RAW_BATCH = 256;
const MAX_BACKLOG = 20_000;

const { values: args } = parseArgs({
  options: {
    seconds: { type: "string" },
    quick: { type: "boolean", default: false },
    body: { type: "string", default: "100" },
    inflight: { type: "string", default: "256" },
    consumers: { type: "string", default: "8" },
    "recv-max": { type: "string", default: "100" },
    engine: { type: "string", default: "sqlite" },
    profile: { type: "string" },
    "node-args": { type: "string", default: "" },
  },
});
const seconds = args.seconds !== undefined ? Number(args.seconds) : args.quick ? 3 : 10;
const bodyBytes = Number(args.body);
const inflight = Number(args.inflight);
const consumers = Number(args.consumers);
const recvMax = Number(args["recv-max"]);
for (const [flag, v] of Object.entries({
  seconds,
  body: bodyBytes,
  inflight,
  consumers,
  "recv-max": recvMax,
})) {
  if (!(v > 0)) {
    process.stderr.write(`mailbox bench: --${flag} must be a positive number\n`);
    process.exit(2);
  }
}

const engine = args.engine;
if (engine !== "sqlite" && engine !== "redis" && engine !== "jetstream") {
  process.stderr.write("mailbox bench: --engine is sqlite, redis or jetstream\n");
  process.exit(2);
}

const dataDir = mkdtempSync(join(tmpdir(), "mailbox-bench-"));
/** The jetstream engine's cluster, stopped on the way out whatever happens. */
let nats: NatsCluster | undefined;
installChildCleanup(() => rmSync(dataDir, { recursive: true, force: true }));

async function main(): Promise<void> {
  let floor: { name: string; rows: number; seconds: number };
  let engineFlags: string[];
  let redis: RedisProcess | undefined;
  if (engine === "jetstream") {
    nats = await startNatsCluster({ nodes: 3 });
    progress(
      `raw JetStream (3 servers, R3): ${inflight} publishes of ${bodyBytes} B in flight, ${consumers} consumers fetch ${recvMax} + ackAck, ${seconds} s`,
    );
    const raw = await rawJetStream({
      urls: nats.urls,
      replicas: 3,
      bodyBytes,
      inflight,
      consumers,
      recvMax,
      maxBacklog: MAX_BACKLOG,
      seconds,
    });
    floor = { name: "raw-jetstream-publish-fetch-ack", ...raw };
    engineFlags = ["--mailbox-engine", "jetstream", "--mailbox-nats-urls", nats.urls.join(",")];
  } else if (engine === "redis") {
    redis = await startRedis();
    progress(
      `raw Redis Streams: XADD ${bodyBytes} B (${RAW_BATCH} per pipeline), ${consumers} consumers XREADGROUP ${recvMax} + XACK/XDEL, ${seconds} s (redis-server at ${redis.url})`,
    );
    const raw = await rawRedisStream(redis.url, {
      bodyBytes,
      batch: RAW_BATCH,
      consumers,
      recvMax,
      maxBacklog: MAX_BACKLOG,
      seconds,
    });
    floor = { name: "raw-redis-xadd-xreadgroup-xack", ...raw };
    engineFlags = ["--mailbox-engine", "redis", "--mailbox-redis-url", redis.url];
  } else {
    progress(`raw SQLite inserts: ${bodyBytes} B, ${RAW_BATCH} per transaction, ${seconds} s`);
    floor = { name: "raw-sqlite-insert", ...rawSqliteInserts(dataDir, bodyBytes, RAW_BATCH, seconds) };
    const sync = process.env.MAILBOX_BENCH_SYNC;
    engineFlags = ["--mailbox-engine", "sqlite", ...(sync ? ["--mailbox-sqlite-sync", sync] : [])];
  }
  const rawRate = floor.rows / floor.seconds;
  emit({
    bench: "mailbox",
    system: floor.name,
    body_bytes: bodyBytes,
    batch: RAW_BATCH,
    seconds: round(floor.seconds, 2),
    rows: floor.rows,
    rows_per_sec: Math.round(rawRate),
  });

  const nodeDir = join(dataDir, "node");
  const nodeArgs = args["node-args"].split(" ").filter(Boolean);
  const node = await startOapNode(nodeDir, profileFlags(args.profile), [...engineFlags, ...nodeArgs]);
  progress(`node at ${node.url} (pid ${node.pid}), engine ${engine}`);
  const client = await connect(node.url, { ca: readFileSync(node.caFile, "utf8"), cap: node.cap });
  const plan = {
    topic: "bench/mixed",
    bodyBytes,
    sendInflight: inflight,
    consumers,
    recvMax,
    warmupMs: 1000,
    measureMs: seconds * 1000,
    maxBacklog: MAX_BACKLOG,
    serverPid: node.pid,
  };

  progress(
    `mixed send→recv→ack, closed loop: ${inflight} sends in flight, ${consumers} consumers (RECV max ${recvMax}), ${seconds} s`,
  );
  const full = await mixedLoad(client, plan);
  const fullRate = full.acked / full.seconds;
  emit(line("mixed", full, {}));

  const half = Math.round(fullRate / 2);
  progress(`mixed at half that rate (${half} msg/s, open loop), ${seconds} s`);
  const paced = await mixedLoad(client, {
    ...plan,
    topic: "bench/paced",
    ratePerSec: half,
    sendInflight: 4096,
  });
  emit(line("mixed-half-rate", paced, { target_rate: half }));

  emit({
    bench: "mailbox",
    compare: `mixed/${floor.name}`,
    body_bytes: bodyBytes,
    ratio: round(fullRate / rawRate, 3),
  });
  const p99 = paced.endToEnd.summary().p99Ms;
  progress(
    `target: ${Math.round(fullRate)} msg/s mixed ${fullRate >= TARGET.msgsPerSec ? "meets" : "MISSES"} ≥ ${TARGET.msgsPerSec}; ` +
      `p99 end-to-end at half rate ${p99.toFixed(1)} ms ${p99 < TARGET.p99MsAtHalfRate ? "meets" : "MISSES"} < ${TARGET.p99MsAtHalfRate}`,
  );
  await client.close();
  await stopChildren();
  await redis?.stop();
  await nats?.stop();
}

function line(system: string, r: MixedResult, extra: Record<string, unknown>): Record<string, unknown> {
  const send = r.sendLatency.summary();
  const e2e = r.endToEnd.summary();
  return {
    bench: "mailbox",
    system,
    engine,
    body_bytes: bodyBytes,
    ...extra,
    seconds: r.seconds,
    sent: r.sent,
    acked: r.acked,
    msgs_per_sec: Math.round(r.acked / r.seconds),
    send_p50_ms: round(send.p50Ms, 3),
    send_p99_ms: round(send.p99Ms, 3),
    e2e_p50_ms: round(e2e.p50Ms, 3),
    e2e_p99_ms: round(e2e.p99Ms, 3),
    client_cpu_us_per_msg: r.clientCpuUs === undefined ? null : round(r.clientCpuUs, 1),
    server_cpu_us_per_msg: r.serverCpuUs === undefined ? null : round(r.serverCpuUs, 1),
  };
}

function emit(record: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(record)}\n`);
}

function progress(message: string): void {
  process.stderr.write(`mailbox bench: ${message}\n`);
}

main().catch(async (err: unknown) => {
  process.stderr.write(`mailbox bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  await stopChildren();
  await nats?.stop();
  process.exit(1);
});
