/**
 * Storage GET against a plain node:https static file server serving the same bytes, in the
 * same run:
 *   1. throughput (MB/s) of one GET of a large object (default 256 MiB), best of --repeat
 *      (default 5), the systems taking turns run by run: the node read whole (verified at the
 *      end), as a `0-` range (not verified) and chunk-verified (each 64 KiB group proven);
 *   2. time to first byte, p50/p95, with --readers concurrent readers (default 50, one
 *      connection each) of small objects (default 1 MiB), --rounds rounds, the systems again
 *      taking turns round by round.
 *
 *   npm run bench:storage [-- --quick] [--big-mib 256] [--small-mib 1] [--readers 50] [--rounds 10] [--repeat 5] [--profile DIR]
 *
 * stdout: one JSON line per result, then one comparison line per measure. stderr: progress.
 */
import { randomFillSync } from "node:crypto";
import {
  createReadStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { connect, type StorageAddress } from "@omnigate/sdk";
import { installChildCleanup, spawnChild, stopChildren } from "../support/children.js";
import { profileFlags, startOapNode } from "../support/servers.js";
import { httpsReader, type ObjectReader, oapReader, type ReadTiming } from "./readers.js";

const MiB = 1024 * 1024;
const MODES = { oap: "whole", "oap-range": "range", "oap-chunks": "chunks" } as const;
/**
 * The targets: throughput ≥ 0.8× the HTTPS server's; first-byte p95 < 100 ms; a chunk-verified
 * GET ≥ 0.8× a whole-object GET; the outboard ≤ 0.5% of its object.
 */
const TARGET = {
  throughputRatio: 0.8,
  firstByteP95Ms: 100,
  chunkVerifiedRatio: 0.8,
  outboardShare: 0.005,
} as const;

const { values: args } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    "big-mib": { type: "string" },
    "small-mib": { type: "string", default: "1" },
    readers: { type: "string", default: "50" },
    rounds: { type: "string" },
    repeat: { type: "string" },
    profile: { type: "string" },
  },
});
const bigBytes = Number(args["big-mib"] ?? (args.quick ? 64 : 256)) * MiB;
const smallBytes = Number(args["small-mib"]) * MiB;
const readers = Number(args.readers);
const rounds = Number(args.rounds ?? (args.quick ? 3 : 10));
const repeat = Number(args.repeat ?? (args.quick ? 2 : 5));

const dataDir = mkdtempSync(join(tmpdir(), "storage-bench-"));
const filesDir = join(dataDir, "files");
installChildCleanup(() => rmSync(dataDir, { recursive: true, force: true }));

type System = "https" | "oap" | "oap-range" | "oap-chunks";
/** One system's readers in the first-byte measure and what they saw. */
interface SmallRun {
  pool: ObjectReader[];
  firstByte: number[];
  total: number[];
  ms: number;
}

async function main(): Promise<void> {
  progress(
    `writing ${bigBytes / MiB} MiB + ${readers} × ${smallBytes / MiB} MiB of random bytes to ${filesDir}`,
  );
  const names = writeFiles();
  const node = await startOapNode(join(dataDir, "node"), profileFlags(args.profile));
  const ca = readFileSync(node.caFile, "utf8");
  const https = await spawnChild({
    name: "https",
    script: "bench/storage/https-server.ts",
    args: ["--cert", node.certFile, "--key", node.keyFile, "--dir", filesDir],
    ready: (line) =>
      line.startsWith("{") ? (JSON.parse(line) as { listening?: number }).listening : undefined,
  });
  progress(`node at ${node.url}, https at 127.0.0.1:${https.ready}; storing the same files in the node`);
  const addrs = await store(node.url, ca, node.cap, names);

  const connectOap = () => connect(node.url, { ca, cap: node.cap, defaultDeadlineMs: 300_000 });
  const readerFor = async (system: System): Promise<ObjectReader> =>
    system === "https" ? httpsReader(https.ready, ca) : oapReader(await connectOap(), addrs, MODES[system]);
  const systems: System[] = ["https", "oap", "oap-range", "oap-chunks"];

  // The systems take turns, run by run, so a change in the machine's speed during the
  // benchmark (other tenants of the host, page cache, CPU clock) falls on all of them alike.
  const throughput = new Map<System, number>();
  const big = new Map<System, { reader: ObjectReader; runs: ReadTiming[] }>();
  for (const system of systems) {
    const reader = await readerFor(system);
    await reader.read("big"); // warm-up: page cache, JIT, TLS
    big.set(system, { reader, runs: [] });
  }
  for (let i = 0; i < repeat; i++) {
    for (const system of systems) {
      const entry = big.get(system) as { reader: ObjectReader; runs: ReadTiming[] };
      const timing = await entry.reader.read("big");
      if (timing.bytes !== bigBytes) throw new Error(`${system}: read ${timing.bytes} of ${bigBytes} bytes`);
      entry.runs.push(timing);
      progress(`${system}: ${bigBytes / MiB} MiB in ${timing.totalMs.toFixed(0)} ms`);
    }
  }
  for (const system of systems) {
    const { reader, runs } = big.get(system) as { reader: ObjectReader; runs: ReadTiming[] };
    await reader.close();
    const best = Math.min(...runs.map((r) => r.totalMs));
    const mbPerS = bigBytes / 1e6 / (best / 1000);
    throughput.set(system, mbPerS);
    emit({
      bench: "storage",
      measure: "get_throughput",
      system,
      object_bytes: bigBytes,
      runs: repeat,
      best_ms: round(best),
      mb_per_s: round(mbPerS),
      all_ms: runs.map((r) => round(r.totalMs)),
    });
  }

  // First byte: the systems take turns round by round too.
  const small = new Map<System, SmallRun>();
  for (const system of systems) {
    const pool = await Promise.all(Array.from({ length: readers }, () => readerFor(system)));
    await Promise.all(pool.map((reader, i) => reader.read(`small-${i}`))); // warm-up
    small.set(system, { pool, firstByte: [], total: [], ms: 0 });
  }
  for (let round = 0; round < rounds; round++) {
    for (const system of systems) {
      const entry = small.get(system) as SmallRun;
      const started = performance.now();
      const timings = await Promise.all(entry.pool.map((reader, i) => reader.read(`small-${i}`)));
      entry.ms += performance.now() - started;
      for (const t of timings) {
        if (t.bytes !== smallBytes) throw new Error(`${system}: short read`);
        entry.firstByte.push(t.firstByteMs);
        entry.total.push(t.totalMs);
      }
    }
  }
  const p95s = new Map<System, number>();
  for (const system of systems) {
    const { pool, firstByte, total, ms } = small.get(system) as SmallRun;
    await Promise.all(pool.map((reader) => reader.close()));
    const p95 = percentile(firstByte, 0.95);
    p95s.set(system, p95);
    progress(`${system}: ${readers} readers × ${rounds} rounds, first byte p95 ${p95.toFixed(1)} ms`);
    emit({
      bench: "storage",
      measure: "first_byte",
      system,
      object_bytes: smallBytes,
      readers,
      reads: firstByte.length,
      first_byte_ms: {
        p50: round(percentile(firstByte, 0.5)),
        p95: round(p95),
        max: round(Math.max(...firstByte)),
      },
      total_ms: { p50: round(percentile(total, 0.5)), p95: round(percentile(total, 0.95)) },
      mb_per_s: round((firstByte.length * smallBytes) / 1e6 / (ms / 1000)),
    });
  }

  // Chunk-verified GETs against today's whole-object GET (issue 18: ≥ 0.8×), and the outboard
  // the node keeps for the big object (≤ 0.5% of it).
  const chunksRatio = (throughput.get("oap-chunks") ?? 0) / (throughput.get("oap") ?? 1);
  emit({
    bench: "storage",
    compare: "get_throughput",
    system: "oap-chunks",
    baseline: "oap",
    ratio: round(chunksRatio),
    target: TARGET.chunkVerifiedRatio,
    meets_target: chunksRatio >= TARGET.chunkVerifiedRatio,
  });
  const outboard = outboardFileBytes(join(dataDir, "node"), addrs.get("big") as StorageAddress);
  emit({
    bench: "storage",
    measure: "outboard",
    object_bytes: bigBytes,
    outboard_bytes: outboard,
    share: round((outboard / bigBytes) * 100) / 100,
    target_share: TARGET.outboardShare,
    meets_target: outboard / bigBytes <= TARGET.outboardShare,
  });

  const https0 = throughput.get("https") ?? 0;
  for (const system of ["oap", "oap-range", "oap-chunks"] as const) {
    const ratio = (throughput.get(system) ?? 0) / https0;
    emit({
      bench: "storage",
      compare: "get_throughput",
      system,
      baseline: "https",
      ratio: round(ratio),
      target: TARGET.throughputRatio,
      meets_target: ratio >= TARGET.throughputRatio,
    });
    const p95 = p95s.get(system) ?? Number.POSITIVE_INFINITY;
    emit({
      bench: "storage",
      compare: "first_byte_p95",
      system,
      p95_ms: round(p95),
      https_p95_ms: round(p95s.get("https") ?? 0),
      target_ms: TARGET.firstByteP95Ms,
      meets_target: p95 < TARGET.firstByteP95Ms,
    });
  }
}

/** Size of the outboard file the node keeps for a tenant-0 object (0 when it has none). */
function outboardFileBytes(nodeDir: string, addr: StorageAddress): number {
  const hex = addr.slice(3);
  const path = join(
    nodeDir,
    "storage",
    "outboards",
    `t-${"0".repeat(32)}`,
    hex.slice(0, 2),
    hex.slice(2, 4),
    hex,
  );
  return existsSync(path) ? statSync(path).size : 0;
}

function writeFiles(): string[] {
  rmSync(filesDir, { recursive: true, force: true });
  mkdirSync(filesDir, { recursive: true });
  const big = Buffer.allocUnsafe(8 * MiB);
  const path = join(filesDir, "big");
  writeFileSync(path, "");
  for (let written = 0; written < bigBytes; written += big.byteLength) {
    randomFillSync(big);
    writeFileSync(path, big.subarray(0, Math.min(big.byteLength, bigBytes - written)), { flag: "a" });
  }
  const names = ["big"];
  for (let i = 0; i < readers; i++) {
    writeFileSync(join(filesDir, `small-${i}`), randomFillSync(Buffer.allocUnsafe(smallBytes)));
    names.push(`small-${i}`);
  }
  return names;
}

async function store(
  url: string,
  ca: string,
  cap: string | undefined,
  names: string[],
): Promise<Map<string, StorageAddress>> {
  const client = await connect(url, { ca, cap, defaultDeadlineMs: 300_000 });
  try {
    const addrs = new Map<string, StorageAddress>();
    for (const name of names) {
      const put = await client.storage.put(createReadStream(join(filesDir, name), { highWaterMark: MiB }));
      addrs.set(name, put.addr);
    }
    return addrs;
  } finally {
    await client.close();
  }
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

function emit(line: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

function progress(message: string): void {
  process.stderr.write(`[storage-bench] ${message}\n`);
}

main()
  .catch((error: unknown) => {
    process.stderr.write(`[storage-bench] failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  })
  .finally(() => stopChildren());
