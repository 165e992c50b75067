import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { NODE_RUNTIME_FLAGS } from "@omnigate/node";
import { spawnChild } from "./children.js";

export interface OapNodeInfo {
  pid: number | undefined;
  url: string;
  /** wss://…/oap of the node's WebSocket listener. */
  wsUrl: string;
  caFile: string;
  /** The node's server certificate and key, reused by the raw-TLS server. */
  certFile: string;
  keyFile: string;
  /** The dev capability the node wrote (absent when it runs with `--auth-mode off`). */
  cap: string | undefined;
}

/**
 * The real node, started the way a user starts it (the `omnigate` command), on ephemeral
 * ports and a throwaway data dir; its banner says where it listens and where its dev CA is.
 */
export async function startOapNode(
  dataDir: string,
  nodeFlags: string[],
  extraArgs: string[] = [],
): Promise<OapNodeInfo> {
  let url: string | undefined;
  let wsUrl: string | undefined;
  const { child, ready } = await spawnChild({
    name: "oap-node",
    script: "packages/node/src/bin/omnigate.ts",
    args: [
      "--listen",
      "127.0.0.1:0",
      "--ws-listen",
      "127.0.0.1:0",
      "--admin",
      "127.0.0.1:0",
      "--data-dir",
      dataDir,
      "--log-level",
      "warn",
      ...extraArgs,
    ],
    nodeFlags: [...NODE_RUNTIME_FLAGS, ...nodeFlags, ...plantedImport(), ...extraNodeFlags()],
    ready(line) {
      url ??= /OAP\/1 over TLS\s+(oap\+tls:\/\/\S+)/.exec(line)?.[1];
      wsUrl ??= /OAP\/1 over WSS\s+(wss:\/\/\S+)/.exec(line)?.[1];
      const caFile = /dev CA\s+(\S+)/.exec(line)?.[1];
      return url && wsUrl && caFile ? { url, wsUrl, caFile } : undefined;
    },
    // The rest of the banner is for people; warnings and errors come as pino JSON lines.
    forward: (line) => line.startsWith("{"),
  });
  const tls = join(dataDir, "tls");
  return {
    pid: child.pid,
    ...ready,
    certFile: join(tls, "server.pem"),
    keyFile: join(tls, "server-key.pem"),
    cap: readDevCap(dataDir),
  };
}

/** The raw-TLS baseline server, on the node's own certificate. */
export async function startRawTlsServer(
  node: Pick<OapNodeInfo, "certFile" | "keyFile">,
  nodeFlags: string[],
): Promise<{ pid: number | undefined; host: string; port: number }> {
  const { child, ready } = await spawnChild({
    name: "raw-tls",
    script: "bench/oap-echo/raw-tls-server.ts",
    args: ["--cert", node.certFile, "--key", node.keyFile],
    nodeFlags,
    ready(line) {
      const port = line.startsWith("{") ? (JSON.parse(line) as { listening?: number }).listening : undefined;
      return port === undefined ? undefined : port;
    },
  });
  return { pid: child.pid, host: "127.0.0.1", port: ready };
}

/**
 * `--import <module>` for the node child when BENCH_OAP_NODE_IMPORT names a module: a test
 * hook, so testing/perf/gate.test.ts can plant a slowdown in the node process alone (the
 * raw floors and the load generator stay as they are). Unset in every normal run.
 */
function plantedImport(): string[] {
  const module = process.env.BENCH_OAP_NODE_IMPORT;
  return module ? ["--import", pathToFileURL(resolve(module)).href] : [];
}

/**
 * Node flags for the node child from BENCH_NODE_FLAGS (space-separated), for profiling with
 * system tools: `BENCH_NODE_FLAGS=--perf-basic-prof` lets `perf` name JavaScript frames.
 */
function extraNodeFlags(): string[] {
  return process.env.BENCH_NODE_FLAGS?.split(" ").filter(Boolean) ?? [];
}

function readDevCap(dataDir: string): string | undefined {
  const path = join(dataDir, "auth", "dev.cap");
  return existsSync(path) ? readFileSync(path, "utf8").trim() : undefined;
}

/** Node flags that make a server child write a .cpuprofile into `dir` when it exits. */
export function profileFlags(dir: string | undefined): string[] {
  return dir ? ["--cpu-prof", `--cpu-prof-dir=${resolve(dir)}`] : [];
}
