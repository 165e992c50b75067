/**
 * OAP/1 echo throughput against the raw-TLS floor, measured in the same run.
 *
 *   npm run bench:echo [-- --seconds N | --quick] [--bodies 64,16384] [--inflight 64,256]
 *                      [--systems raw-tls,oap-min,oap-min-auth,oap,oap-auth,wss] [--profile DIR]
 *
 * Two client models, each against the floor it can be fairly compared with:
 * - the minimal pipelined client (pipelined-client.ts) drives `raw-tls` (a length-prefixed
 *   node:tls echo), `oap-min` (the node, capabilities off) and `oap-min-auth` (the node as
 *   `npm start` runs it, the dev capability bound in HELLO). Same client, same batching on the
 *   wire, so the node's server CPU per request against the raw server's is the protocol's
 *   own cost; the hot-path targets are set on it.
 * - the SDK, as an application uses it, drives `oap` (capabilities off), `oap-auth`
 *   (capabilities on) and `wss` (the `oap` node over its WebSocket listener, wss://…/oap).
 *   `oap` is compared with `raw-tls` too: the SDK can only add work, so that ratio is ≤ 1.
 *
 * stdout: one JSON line per result and one ratio line per (body, inflight) pair.
 * stderr: progress. See bench/README.md for the fields and the method.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { installChildCleanup, stopChildren } from "../support/children.js";
import { benchCli } from "../support/cli.js";
import { closedLoop, type EchoTarget, type LoadResult } from "../support/load.js";
import { connectOap } from "../support/oap-load.js";
import { profileFlags, startOapNode, startRawTlsServer } from "../support/servers.js";
import { round } from "../support/stats.js";
import { connectMinimalOap } from "./minimal-oap-client.js";
import { connectRawTls } from "./raw-tls-client.js";

const { emit, fail, list, positive, progress, run } = benchCli("oap-echo");

type System = "raw-tls" | "oap-min" | "oap-min-auth" | "oap" | "oap-auth" | "wss";
const SYSTEMS: readonly System[] = ["raw-tls", "oap-min", "oap-min-auth", "oap", "oap-auth", "wss"];
/** The acceptance target: OAP at 64 B / 64 in flight reaches this share of the raw-TLS floor. */
const TARGET = { bodyBytes: 64, inflight: 64, ratio: 0.6 } as const;
/** The WebSocket target: OAP over WSS at 64 B / 64 in flight reaches this share of OAP over TLS. */
const WSS_TARGET = { bodyBytes: 64, inflight: 64, ratio: 0.5 } as const;
/**
 * Hot-path targets (issue 22): the node's server CPU per request over the raw server's, both
 * driven by the minimal client in the same run; at most this much.
 */
const CPU_TARGETS: readonly { system: System; bodyBytes: number; inflight: number; most: number }[] = [
  { system: "oap-min-auth", bodyBytes: 64, inflight: 64, most: 2 },
  { system: "oap-min-auth", bodyBytes: 64, inflight: 256, most: 2.5 },
  { system: "oap-min", bodyBytes: 16384, inflight: 64, most: 1.3 },
  { system: "oap-min-auth", bodyBytes: 16384, inflight: 64, most: 1.3 },
];

const { values: args } = parseArgs({
  options: {
    seconds: { type: "string" },
    quick: { type: "boolean", default: false },
    warmup: { type: "string", default: "1" },
    bodies: { type: "string", default: "64,16384" },
    inflight: { type: "string", default: "64,256" },
    systems: { type: "string", default: SYSTEMS.join(",") },
    profile: { type: "string" },
  },
});

const seconds =
  args.seconds !== undefined ? positive("--seconds", Number(args.seconds)) : args.quick ? 2 : 10;
const warmupMs = positive("--warmup", Number(args.warmup)) * 1000;
const bodies = list("--bodies", args.bodies);
const inflights = list("--inflight", args.inflight);
const systems = args.systems.split(",").map((name) => {
  if (!SYSTEMS.includes(name as System)) fail(`--systems: unknown system "${name}" (${SYSTEMS.join(", ")})`);
  return name as System;
});
// --cpu-prof writes one .cpuprofile per server child when it exits (we stop them with SIGTERM).
const nodeFlags = profileFlags(args.profile);

const dataDir = mkdtempSync(join(tmpdir(), "oap-echo-bench-"));
installChildCleanup(() => rmSync(dataDir, { recursive: true, force: true }));

async function main(): Promise<void> {
  progress(`starting servers (data dir ${dataDir})`);
  const node = await startOapNode(join(dataDir, "off"), nodeFlags, ["--auth-mode", "off"]);
  const authNode = systems.some((system) => system === "oap-auth" || system === "oap-min-auth")
    ? await startOapNode(join(dataDir, "on"), nodeFlags)
    : undefined;
  const raw = await startRawTlsServer(node, nodeFlags);
  const ca = readFileSync(node.caFile, "utf8");
  progress(`oap node at ${node.url} (pid ${node.pid}), raw-tls at ${raw.host}:${raw.port} (pid ${raw.pid})`);

  const nodeAddress = new URL(node.url.replace(/^oap\+tls:/, "https:"));
  const servers: Record<System, { pid: number | undefined; connect(): Promise<EchoTarget> }> = {
    "raw-tls": { pid: raw.pid, connect: () => connectRawTls(raw.host, raw.port, ca) },
    "oap-min": {
      pid: node.pid,
      connect: () => connectMinimalOap(nodeAddress.hostname, Number(nodeAddress.port), ca),
    },
    "oap-min-auth": {
      pid: authNode?.pid,
      connect: () => {
        const on = authNode as NonNullable<typeof authNode>;
        const address = new URL(on.url.replace(/^oap\+tls:/, "https:"));
        const cap = Buffer.from(on.cap ?? "", "base64url");
        return connectMinimalOap(address.hostname, Number(address.port), readFileSync(on.caFile, "utf8"), {
          cap,
        });
      },
    },
    oap: { pid: node.pid, connect: () => connectOap(node.url, ca) },
    wss: { pid: node.pid, connect: () => connectOap(node.wsUrl, ca) },
    "oap-auth": {
      pid: authNode?.pid,
      connect: () => {
        const on = authNode as NonNullable<typeof authNode>;
        return connectOap(on.url, readFileSync(on.caFile, "utf8"), undefined, on.cap);
      },
    },
  };

  for (const bodyBytes of bodies) {
    // Random bytes: nothing on either path can take a shortcut on repetitive content.
    const body = randomBytes(bodyBytes);
    for (const inflight of inflights) {
      const results = new Map<System, LoadResult>();
      for (const system of systems) {
        progress(
          `${system}: ${bodyBytes} B, ${inflight} in flight, ${seconds} s (+${warmupMs / 1000} s warm-up)`,
        );
        const server = servers[system];
        const target = await server.connect();
        try {
          const plan = { body, inflight, warmupMs, measureMs: seconds * 1000, serverPid: server.pid };
          const result = await closedLoop(target, plan);
          results.set(system, result);
          emit({
            bench: "oap-echo",
            system,
            body_bytes: bodyBytes,
            inflight,
            seconds: round(result.seconds, 2),
            requests: result.requests,
            rps: Math.round(result.rps),
            p50_ms: round(result.p50Ms, 3),
            p99_ms: round(result.p99Ms, 3),
            client_cpu_us: optionalRound(result.clientCpuUs, 2),
            server_cpu_us: optionalRound(result.serverCpuUs, 2),
          });
        } finally {
          await target.close();
        }
      }
      // Each ratio: system over baseline, both measured in this run; the 64 B / 64 targets are checked.
      compare(results, "oap-min", "raw-tls", bodyBytes, inflight);
      compare(results, "oap-min-auth", "raw-tls", bodyBytes, inflight);
      compare(results, "oap-auth", "oap", bodyBytes, inflight);
      compare(results, "wss", "oap", bodyBytes, inflight, WSS_TARGET);
      compare(results, "oap", "raw-tls", bodyBytes, inflight, TARGET);
    }
  }
  progress("stopping servers");
  await stopChildren();
  if (args.profile) progress(`CPU profiles of the server processes are in ${resolve(args.profile)}`);
}

function compare(
  results: Map<System, LoadResult>,
  system: System,
  baseline: System,
  bodyBytes: number,
  inflight: number,
  target?: { bodyBytes: number; inflight: number; ratio: number },
): void {
  const measured = results.get(system);
  const floor = results.get(baseline);
  if (!measured || !floor) return;
  const ratio = measured.rps / floor.rps;
  const name = `${system}/${baseline}`;
  // Server CPU per request, system over floor: the steady figure where throughput swings.
  const cpuRatio =
    measured.serverCpuUs !== undefined && floor.serverCpuUs !== undefined && floor.serverCpuUs > 0
      ? measured.serverCpuUs / floor.serverCpuUs
      : undefined;
  emit({
    bench: "oap-echo",
    compare: name,
    body_bytes: bodyBytes,
    inflight,
    rps_ratio: round(ratio, 3),
    server_cpu_ratio: optionalRound(cpuRatio, 3),
  });
  if (target && bodyBytes === target.bodyBytes && inflight === target.inflight) {
    const verdict = ratio >= target.ratio ? "meets" : "MISSES";
    progress(`target: ${name} at 64 B / 64 in flight = ${ratio.toFixed(3)} ${verdict} ≥ ${target.ratio}`);
  }
  const cpuTarget = CPU_TARGETS.find(
    (t) => t.system === system && t.bodyBytes === bodyBytes && t.inflight === inflight,
  );
  if (cpuTarget && baseline === "raw-tls" && cpuRatio !== undefined) {
    const verdict = cpuRatio <= cpuTarget.most ? "meets" : "MISSES";
    progress(
      `target: ${name} server CPU per request at ${bodyBytes} B / ${inflight} in flight = ${cpuRatio.toFixed(2)}× ${verdict} ≤ ${cpuTarget.most}×`,
    );
  }
}

function optionalRound(value: number | undefined, digits: number): number | undefined {
  return value === undefined ? undefined : round(value, digits);
}

run(main);
