/**
 * Storage GET through a node on the s3 engine against a raw S3 GetObject of the same object
 * from the same OpenStack Swift cluster, in the same run: throughput (MB/s) of one GET of a
 * large object (default 64 MiB), best of --repeat (default 5), the systems taking turns run by
 * run. `oap-s3`: a whole-object GET, which the node reads from Swift and verifies against its
 * address as it sends it over OAP/1, and the SDK verifies again as it arrives; `oap-s3-range`:
 * a `0-` range, which neither verifies (the same work as the raw read plus OAP/1 over TLS);
 * `s3-raw`: GetObject straight from Swift, unverified; `s3-tls-pipe`: a bare process that pipes
 * a GetObject body into a TLS socket (s3-tls-pipe-server.ts), the floor of any hop in between.
 * Goal: the node ≥ 0.8× the raw read.
 *
 *   npm run bench:storage-s3 [-- --quick] [--big-mib 64] [--repeat 5] [--profile DIR]
 *
 * Needs Debian's swift, swift-proxy, swift-object, swift-container, swift-account and memcached.
 * stdout: one JSON line per result, then the comparison lines. stderr: progress.
 */
import { randomFillSync } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { connect as tlsConnect } from "node:tls";
import { parseArgs } from "node:util";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { NODE_RUNTIME_FLAGS } from "@omnigate/node";
import { connect } from "@omnigate/sdk";
import { type SwiftCluster, startSwiftCluster } from "../../testing/support/swift-cluster.js";
import { installChildCleanup, spawnChild, stopChildren } from "../support/children.js";
import { cpuMicros } from "../support/cpu.js";
import { profileFlags, startOapNode } from "../support/servers.js";
import { type ObjectReader, oapReader, type ReadTiming } from "./readers.js";

const MiB = 1024 * 1024;
const TARGET_RATIO = 0.8;
const BUCKET = "omnigate-bench";
/** The tenant the node's dev capability is for: its objects live under this namespace. */
const DEV_NAMESPACE = `t-${"0".repeat(32)}`;

const { values: args } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    "big-mib": { type: "string" },
    repeat: { type: "string" },
    profile: { type: "string" },
  },
});
const bigBytes = Number(args["big-mib"] ?? (args.quick ? 32 : 64)) * MiB;
const repeat = Number(args.repeat ?? (args.quick ? 2 : 5));

const dataDir = mkdtempSync(join(tmpdir(), "storage-s3-bench-"));
let swift: SwiftCluster | undefined;
installChildCleanup(() => {
  swift?.killNow();
  rmSync(dataDir, { recursive: true, force: true });
});

type System = "s3-raw" | "s3-tls-pipe" | "oap-s3" | "oap-s3-range";

async function main(): Promise<void> {
  const clusterStarted = performance.now();
  swift = await startSwiftCluster({ log: progress });
  progress(`Swift up in ${((performance.now() - clusterStarted) / 1000).toFixed(1)} s`);
  const node = await startOapNode(join(dataDir, "node"), profileFlags(args.profile), [
    "--storage-engine",
    "s3",
    "--storage-s3-endpoint",
    swift.endpoint,
    "--storage-s3-bucket",
    BUCKET,
    "--storage-s3-access-key-id",
    swift.accessKeyId,
    "--storage-s3-secret-access-key",
    swift.secretAccessKey,
  ]);
  const storePids = swiftServerPids();
  const pipe = await startTlsPipeServer(node, swift);
  const ca = readFileSync(node.caFile, "utf8");
  const client = await connect(node.url, { ca, cap: node.cap, defaultDeadlineMs: 300_000 });
  const bytes = randomFillSync(Buffer.allocUnsafe(bigBytes));
  progress(`storing ${bigBytes / MiB} MiB through the node at ${node.url}`);
  const { addr } = await client.storage.put(bytes);
  const s3 = new S3Client({
    endpoint: swift.endpoint,
    region: swift.region,
    credentials: swift,
    forcePathStyle: true,
    responseChecksumValidation: "WHEN_REQUIRED",
  });
  const key = `${DEV_NAMESPACE}/${addr.slice(3)}`;
  const readers: Record<System, ObjectReader> = {
    "s3-raw": rawS3Reader(s3, key),
    "s3-tls-pipe": tlsPipeReader(pipe.port, ca, key),
    "oap-s3": oapReader(client, new Map([["big", addr]]), "whole"),
    "oap-s3-range": oapReader(client, new Map([["big", addr]]), "range"),
  };
  const systems = Object.keys(readers) as System[];
  /** Whose CPU is the server side of each system's read. */
  const serverPid: Record<System, number | undefined> = {
    "s3-raw": undefined,
    "s3-tls-pipe": pipe.pid,
    "oap-s3": node.pid,
    "oap-s3-range": node.pid,
  };
  const runs = new Map<System, ReadTiming[]>(systems.map((system) => [system, []]));
  const cpu = new Map<System, CpuShare[]>(systems.map((system) => [system, []]));
  for (const system of systems) await readers[system].read("big"); // warm-up
  // The systems take turns, so a change in the machine's speed falls on all of them alike.
  for (let i = 0; i < repeat; i++) {
    for (const system of systems) {
      const before = cpuNow(serverPid[system], storePids);
      const timing = await readers[system].read("big");
      const share = cpuSince(before, cpuNow(serverPid[system], storePids));
      if (timing.bytes !== bigBytes) throw new Error(`${system}: read ${timing.bytes} of ${bigBytes} bytes`);
      runs.get(system)?.push(timing);
      cpu.get(system)?.push(share);
      progress(
        `${system}: ${bigBytes / MiB} MiB in ${timing.totalMs.toFixed(0)} ms; CPU ms: client ${share.clientMs.toFixed(0)}, server ${share.serverMs.toFixed(0)}, Swift ${share.storeMs.toFixed(0)}, machine ${share.machineBusyPct.toFixed(0)} % busy`,
      );
    }
  }
  const throughput = new Map<System, number>();
  for (const system of systems) {
    const timings = runs.get(system) ?? [];
    const best = Math.min(...timings.map((t) => t.totalMs));
    const mbPerS = bigBytes / 1e6 / (best / 1000);
    throughput.set(system, mbPerS);
    emit({
      bench: "storage-s3",
      measure: "get_throughput",
      system,
      object_bytes: bigBytes,
      runs: repeat,
      best_ms: round(best),
      mb_per_s: round(mbPerS),
      all_ms: timings.map((t) => round(t.totalMs)),
      first_byte_ms_p50: round(median(timings.map((t) => t.firstByteMs))),
      // Where the CPU went during a read (medians): on two cores the client, the server in
      // between (the node or the pipe; none for s3-raw) and Swift's servers share them, and a
      // machine near 100 % busy is what bounds the read.
      client_cpu_ms_p50: round(median((cpu.get(system) ?? []).map((c) => c.clientMs))),
      server_cpu_ms_p50: round(median((cpu.get(system) ?? []).map((c) => c.serverMs))),
      swift_cpu_ms_p50: round(median((cpu.get(system) ?? []).map((c) => c.storeMs))),
      machine_busy_pct_p50: round(median((cpu.get(system) ?? []).map((c) => c.machineBusyPct))),
    });
  }
  for (const system of ["oap-s3", "oap-s3-range"] as const) {
    const ratio = (throughput.get(system) ?? 0) / (throughput.get("s3-raw") ?? 1);
    emit({
      bench: "storage-s3",
      compare: "get_throughput",
      system,
      baseline: "s3-raw",
      ratio: round(ratio),
      target: TARGET_RATIO,
      meets_target: ratio >= TARGET_RATIO,
    });
  }
  // Informative (no target): how far the bare pipe gets, and the node against that floor.
  const pipeOverRaw = (throughput.get("s3-tls-pipe") ?? 0) / (throughput.get("s3-raw") ?? 1);
  emit({
    bench: "storage-s3",
    compare: "get_throughput",
    system: "s3-tls-pipe",
    baseline: "s3-raw",
    ratio: round(pipeOverRaw),
  });
  for (const system of ["oap-s3", "oap-s3-range"] as const) {
    const ratio = (throughput.get(system) ?? 0) / (throughput.get("s3-tls-pipe") ?? 1);
    emit({
      bench: "storage-s3",
      compare: "get_throughput",
      system,
      baseline: "s3-tls-pipe",
      ratio: round(ratio),
    });
  }
  s3.destroy();
  await client.close();
}

/** The bare pipe, on the node's certificate and with the node's heap flags. */
async function startTlsPipeServer(
  node: { certFile: string; keyFile: string },
  swift: SwiftCluster,
): Promise<{ pid: number | undefined; port: number }> {
  const { child, ready } = await spawnChild({
    name: "s3-tls-pipe",
    script: "bench/storage/s3-tls-pipe-server.ts",
    args: [
      ["--cert", node.certFile],
      ["--key", node.keyFile],
      ["--endpoint", swift.endpoint],
      ["--bucket", BUCKET],
      ["--access-key-id", swift.accessKeyId],
      ["--secret-access-key", swift.secretAccessKey],
      ["--region", swift.region],
    ].flat(),
    nodeFlags: [...NODE_RUNTIME_FLAGS],
    ready(line) {
      return line.startsWith("{") ? (JSON.parse(line) as { listening?: number }).listening : undefined;
    },
  });
  return { pid: child.pid, port: ready };
}

/** One key asked of the pipe on a new TLS connection, its bytes read to the end as they arrive. */
function tlsPipeReader(port: number, ca: string, key: string): ObjectReader {
  return {
    read: () =>
      new Promise((resolve, reject) => {
        const started = performance.now();
        let firstByteMs = -1;
        let bytes = 0;
        const socket = tlsConnect({ host: "127.0.0.1", port, ca, servername: "localhost" }, () => {
          socket.write(`${key}\n`);
        });
        socket.on("data", (chunk: Buffer) => {
          if (firstByteMs < 0) firstByteMs = performance.now() - started;
          bytes += chunk.byteLength;
        });
        socket.once("end", () => {
          socket.end();
          resolve({ bytes, firstByteMs, totalMs: performance.now() - started });
        });
        socket.once("error", reject);
      }),
    close: async () => {},
  };
}

/** GetObject of one key, its body read to the end as it arrives. */
function rawS3Reader(s3: S3Client, key: string): ObjectReader {
  return {
    async read() {
      const started = performance.now();
      let firstByteMs = -1;
      let bytes = 0;
      const reply = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
      for await (const chunk of reply.Body as Readable) {
        if (firstByteMs < 0) firstByteMs = performance.now() - started;
        bytes += (chunk as Buffer).byteLength;
      }
      return { bytes, firstByteMs, totalMs: performance.now() - started };
    },
    close: async () => {},
  };
}

interface CpuShare {
  clientMs: number;
  serverMs: number;
  /** Swift's servers together (proxy, object, container, account). */
  storeMs: number;
  machineBusyPct: number;
}

interface CpuSample {
  client: number;
  server: number;
  store: number;
  busy: number;
  total: number;
}

/** The Swift servers' processes (each runs with `workers = 0`: one process, no forks). */
function swiftServerPids(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      if (/swift-(proxy|object|container|account)-server/.test(cmdline)) pids.push(Number(entry));
    } catch {
      // gone since the listing
    }
  }
  return pids;
}

function cpuNow(serverPid: number | undefined, storePids: number[]): CpuSample {
  // The first line of /proc/stat: jiffies of all CPUs by kind; idle and iowait are not busy.
  const jiffies =
    readFileSync("/proc/stat", "utf8").split("\n")[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
  const total = jiffies.reduce((sum, n) => sum + n, 0);
  const idle = (jiffies[3] ?? 0) + (jiffies[4] ?? 0);
  const store = storePids.reduce((sum, pid) => sum + (cpuMicros(pid) ?? 0), 0);
  const server = serverPid === undefined ? 0 : (cpuMicros(serverPid) ?? 0);
  return { client: cpuMicros() ?? 0, server, store, busy: total - idle, total };
}

function cpuSince(from: CpuSample, to: CpuSample): CpuShare {
  return {
    clientMs: (to.client - from.client) / 1000,
    serverMs: (to.server - from.server) / 1000,
    storeMs: (to.store - from.store) / 1000,
    machineBusyPct: to.total > from.total ? (100 * (to.busy - from.busy)) / (to.total - from.total) : 0,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

function emit(line: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

function progress(message: string): void {
  process.stderr.write(`[storage-s3-bench] ${message}\n`);
}

main()
  .catch((error: unknown) => {
    process.stderr.write(
      `[storage-s3-bench] failed: ${error instanceof Error ? error.stack : String(error)}\n`,
    );
    process.exitCode = 1;
  })
  .finally(async () => {
    await stopChildren();
    await swift?.stop();
    swift = undefined;
  });
