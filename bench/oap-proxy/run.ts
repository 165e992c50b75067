/**
 * The app plane's proxy hop: echo through node → app backend (0x1001, examples/echo/echo-backend.ts)
 * against the node's built-in echo (0x0101), measured in the same run on the same node.
 *
 *   npm run bench:proxy [-- --seconds N | --quick] [--bodies 64,16384] [--inflight 64]
 *                       [--systems direct,proxy] [--profile DIR]
 *
 * stdout: one JSON line per result and one comparison line per (body, inflight) pair.
 * stderr: progress. See bench/README.md for the fields and the method.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { installChildCleanup, spawnChild, stopChildren } from "../support/children.js";
import { benchCli } from "../support/cli.js";
import { closedLoop, type LoadResult } from "../support/load.js";
import { connectOap } from "../support/oap-load.js";
import { startOapNode } from "../support/servers.js";
import { round } from "../support/stats.js";

const { emit, fail, list, positive, progress, run } = benchCli("oap-proxy");

type System = "direct" | "proxy";
const SYSTEMS: readonly System[] = ["direct", "proxy"];
const APP_IDS: Record<System, number> = { direct: 0x0101, proxy: 0x1001 };

const { values: args } = parseArgs({
  options: {
    seconds: { type: "string" },
    quick: { type: "boolean", default: false },
    warmup: { type: "string", default: "1" },
    bodies: { type: "string", default: "64,16384" },
    inflight: { type: "string", default: "64" },
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

// --cpu-prof writes one .cpuprofile per server child (node and backend) when it exits.
const nodeFlags = args.profile ? ["--cpu-prof", `--cpu-prof-dir=${resolve(args.profile)}`] : [];

const workDir = mkdtempSync(join(tmpdir(), "oap-proxy-bench-"));
installChildCleanup(() => rmSync(workDir, { recursive: true, force: true }));

async function main(): Promise<void> {
  progress(`starting the echo backend and the node (work dir ${workDir})`);
  const backend = await startEchoBackend(join(workDir, "backend"));
  const config = join(workDir, "node.toml");
  writeFileSync(
    config,
    [
      "[[apps]]",
      'id = "0x1001"',
      'name = "echo-backend"',
      `backend = "${backend.url}"`,
      `ca_file = "${backend.caFile}"`,
      "",
    ].join("\n"),
  );
  // Capabilities off on both sides of the comparison: this measures the proxy hop.
  const node = await startOapNode(join(workDir, "node"), nodeFlags, [
    "--config",
    config,
    "--auth-mode",
    "off",
  ]);
  const ca = readFileSync(node.caFile, "utf8");
  progress(`node at ${node.url} (pid ${node.pid}) routes 0x1001 to ${backend.url} (pid ${backend.pid})`);

  for (const bodyBytes of bodies) {
    // Random bytes: nothing on either path can take a shortcut on repetitive content.
    const body = randomBytes(bodyBytes);
    for (const inflight of inflights) {
      const results = new Map<System, LoadResult>();
      for (const system of systems) {
        progress(
          `${system}: ${bodyBytes} B, ${inflight} in flight, ${seconds} s (+${warmupMs / 1000} s warm-up)`,
        );
        const target = await connectOap(node.url, ca, APP_IDS[system]);
        try {
          const result = await closedLoop(target, {
            body,
            inflight,
            warmupMs,
            measureMs: seconds * 1000,
            serverPid: node.pid,
            backendPid: system === "proxy" ? backend.pid : undefined,
          });
          results.set(system, result);
          emit({
            bench: "oap-proxy",
            system,
            app_proto_id: APP_IDS[system],
            body_bytes: bodyBytes,
            inflight,
            seconds: round(result.seconds, 2),
            requests: result.requests,
            rps: Math.round(result.rps),
            p50_ms: round(result.p50Ms, 3),
            p99_ms: round(result.p99Ms, 3),
            client_cpu_us: optionalRound(result.clientCpuUs),
            node_cpu_us: optionalRound(result.serverCpuUs),
            backend_cpu_us: optionalRound(result.backendCpuUs),
          });
        } finally {
          await target.close();
        }
      }
      const direct = results.get("direct");
      const proxy = results.get("proxy");
      if (direct && proxy) {
        const nodeCpuAdded =
          proxy.serverCpuUs !== undefined && direct.serverCpuUs !== undefined
            ? proxy.serverCpuUs - direct.serverCpuUs
            : undefined;
        emit({
          bench: "oap-proxy",
          compare: "proxy/direct",
          body_bytes: bodyBytes,
          inflight,
          rps_ratio: round(proxy.rps / direct.rps, 3),
          p50_added_ms: round(proxy.p50Ms - direct.p50Ms, 3),
          node_cpu_added_us: optionalRound(nodeCpuAdded),
        });
      }
    }
  }
  progress("stopping servers");
  await stopChildren();
  if (args.profile) progress(`CPU profiles of the node and the backend are in ${resolve(args.profile)}`);
}

/** The echo backend example in its own process, with its dev CA in `dir`. */
async function startEchoBackend(
  dir: string,
): Promise<{ pid: number | undefined; url: string; caFile: string }> {
  let url: string | undefined;
  const { child, ready } = await spawnChild({
    name: "echo-backend",
    script: "examples/echo/echo-backend.ts",
    args: ["--port", "0", "--tls-dir", dir],
    nodeFlags,
    ready(line) {
      url ??= /OAP\/1 over TLS\s+(oap\+tls:\/\/\S+)/.exec(line)?.[1];
      const caFile = /CA file\s+(\S+)/.exec(line)?.[1];
      return url && caFile ? { url, caFile } : undefined;
    },
  });
  return { pid: child.pid, ...ready };
}

function optionalRound(value: number | undefined): number | undefined {
  return value === undefined ? undefined : round(value, 2);
}

run(main);
