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
 * Each system is measured twice (--cores both): with every process on every core, and with
 * Swift's processes on a core of their own (`taskset`), as a store on machines of its own.
 *
 *   npm run bench:storage-s3 [-- --quick] [--big-mib 64] [--repeat 5] [--profile DIR]
 *                            [--cores shared|store-own-core|both]
 *
 * Needs Debian's swift, swift-proxy, swift-object, swift-container, swift-account and memcached.
 * stdout: one JSON line per result, then the comparison lines. stderr: progress.
 */
import { randomFillSync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { S3Client } from "@aws-sdk/client-s3";
import { connect } from "@omnigate/sdk";
import { type SwiftCluster, startSwiftCluster } from "../../testing/support/swift-cluster.js";
import { installChildCleanup, stopChildren } from "../support/children.js";
import { profileFlags, startOapNode } from "../support/servers.js";
import { type CorePlacement, CorePlacer } from "./core-placement.js";
import { type ObjectReader, oapReader, type ReadTiming } from "./readers.js";
import { type CpuShare, measureCpu, type ReadProcesses } from "./s3-cpu-share.js";
import { rawS3Reader } from "./s3-raw-reader.js";
import { startTlsPipeServer, tlsPipeReader } from "./s3-tls-pipe.js";

const MiB = 1024 * 1024;
const TARGET_RATIO = 0.8;
const BUCKET = "omnigate-bench";
/** The tenant the node's dev capability is for: its objects live under this namespace. */
const DEV_NAMESPACE = `t-${"0".repeat(32)}`;
const PLACEMENTS: readonly CorePlacement[] = ["shared", "store-own-core"];

const { values: args } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    "big-mib": { type: "string" },
    repeat: { type: "string" },
    profile: { type: "string" },
    cores: { type: "string", default: "both" },
  },
});
const bigBytes = Number(args["big-mib"] ?? (args.quick ? 32 : 64)) * MiB;
const repeat = Number(args.repeat ?? (args.quick ? 2 : 5));
const placer = new CorePlacer();
const placements = placementsAsked(args.cores);

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
  const pipe = await startTlsPipeServer(node, swift, BUCKET, profileFlags(args.profile));
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
    "s3-raw": rawS3Reader(s3, BUCKET, key),
    "s3-tls-pipe": tlsPipeReader(pipe.port, ca, key),
    "oap-s3": oapReader(client, new Map([["big", addr]]), "whole"),
    "oap-s3-range": oapReader(client, new Map([["big", addr]]), "range"),
  };
  const swiftPids = swift.pids();
  /** Whose CPU is the server side of each system's read. */
  const processes: Record<System, ReadProcesses> = {
    "s3-raw": { server: undefined, swift: swiftPids },
    "s3-tls-pipe": { server: pipe.pid, swift: swiftPids },
    "oap-s3": { server: node.pid, swift: swiftPids },
    "oap-s3-range": { server: node.pid, swift: swiftPids },
  };
  const others = [process.pid, node.pid, pipe.pid].filter((pid): pid is number => pid !== undefined);
  for (const placement of placements) {
    placer.place(placement, swiftPids, others);
    progress(
      placement === "shared"
        ? "every process on every core"
        : "Swift's processes on a core of their own, the client, the node and the pipe on the other(s)",
    );
    const throughput = await measure(readers, processes, placement);
    compare(throughput, placement);
  }
  placer.place("shared", swiftPids, others);
  s3.destroy();
  await client.close();
}

/** Best-of-`repeat` throughput of each system, its result lines written. */
async function measure(
  readers: Record<System, ObjectReader>,
  processes: Record<System, ReadProcesses>,
  placement: CorePlacement,
): Promise<Map<System, number>> {
  const systems = Object.keys(readers) as System[];
  const runs = new Map<System, ReadTiming[]>(systems.map((system) => [system, []]));
  const cpu = new Map<System, CpuShare[]>(systems.map((system) => [system, []]));
  for (const system of systems) await readers[system].read("big"); // warm-up
  // The systems take turns, so a change in the machine's speed falls on all of them alike.
  for (let i = 0; i < repeat; i++) {
    for (const system of systems) {
      const cpuSpent = measureCpu(processes[system]);
      const timing = await readers[system].read("big");
      const share = cpuSpent();
      if (timing.bytes !== bigBytes) throw new Error(`${system}: read ${timing.bytes} of ${bigBytes} bytes`);
      runs.get(system)?.push(timing);
      cpu.get(system)?.push(share);
      progress(
        `${system}: ${bigBytes / MiB} MiB in ${timing.totalMs.toFixed(0)} ms; CPU ms: client ${share.clientMs.toFixed(0)}, server ${share.serverMs.toFixed(0)}, Swift ${share.swiftMs.toFixed(0)}, machine ${share.machineBusyPct.toFixed(0)} % busy`,
      );
    }
  }
  const throughput = new Map<System, number>();
  for (const system of systems) {
    const timings = runs.get(system) ?? [];
    const shares = cpu.get(system) ?? [];
    const best = Math.min(...timings.map((t) => t.totalMs));
    const mbPerS = bigBytes / 1e6 / (best / 1000);
    throughput.set(system, mbPerS);
    emit({
      bench: "storage-s3",
      measure: "get_throughput",
      system,
      cores: placement,
      object_bytes: bigBytes,
      runs: repeat,
      best_ms: round(best),
      mb_per_s: round(mbPerS),
      all_ms: timings.map((t) => round(t.totalMs)),
      first_byte_ms_p50: round(median(timings.map((t) => t.firstByteMs))),
      // Where the CPU went during a read (medians): the client, the server in between (the
      // node or the pipe; none for s3-raw) and Swift; a machine near 100 % busy bounds the read.
      client_cpu_ms_p50: round(median(shares.map((c) => c.clientMs))),
      ...(processes[system].server === undefined
        ? {}
        : { server_cpu_ms_p50: round(median(shares.map((c) => c.serverMs))) }),
      swift_cpu_ms_p50: round(median(shares.map((c) => c.swiftMs))),
      machine_busy_pct_p50: round(median(shares.map((c) => c.machineBusyPct))),
    });
  }
  return throughput;
}

/**
 * The comparison lines of one placement: each node system against the raw read (goal 0.8), and,
 * without a goal, the bare pipe against the raw read and each node system against the pipe.
 * The shared placement keeps the plain `get_throughput` name the perf rig has always keyed on.
 */
function compare(throughput: Map<System, number>, placement: CorePlacement): void {
  const compareName = placement === "shared" ? "get_throughput" : "get_throughput_store_own_core";
  const ratio = (system: System, baseline: System) =>
    (throughput.get(system) ?? 0) / (throughput.get(baseline) ?? 1);
  for (const system of ["oap-s3", "oap-s3-range"] as const) {
    const value = ratio(system, "s3-raw");
    emit({
      bench: "storage-s3",
      compare: compareName,
      system,
      baseline: "s3-raw",
      ratio: round(value),
      target: TARGET_RATIO,
      meets_target: value >= TARGET_RATIO,
    });
  }
  emit({
    bench: "storage-s3",
    compare: compareName,
    system: "s3-tls-pipe",
    baseline: "s3-raw",
    ratio: round(ratio("s3-tls-pipe", "s3-raw")),
  });
  for (const system of ["oap-s3", "oap-s3-range"] as const) {
    emit({
      bench: "storage-s3",
      compare: compareName,
      system,
      baseline: "s3-tls-pipe",
      ratio: round(ratio(system, "s3-tls-pipe")),
    });
  }
}

function placementsAsked(cores: string | undefined): readonly CorePlacement[] {
  const asked = cores === "both" ? PLACEMENTS : PLACEMENTS.filter((p) => p === cores);
  if (asked.length === 0) {
    process.stderr.write(`--cores must be shared, store-own-core or both (got ${cores})\n`);
    process.exit(2);
  }
  if (asked.includes("store-own-core") && !placer.canGiveStoreOwnCore()) {
    process.stderr.write("[storage-s3-bench] one core only: the store-own-core placement is left out\n");
    return asked.filter((p) => p !== "store-own-core");
  }
  return asked;
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
