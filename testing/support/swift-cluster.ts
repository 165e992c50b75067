import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { userInfo } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { CreateBucketCommand, DeleteBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { freePort } from "./free-port.js";
import { oneAtATime } from "./start-lock.js";
import { tempDir } from "./temp-dir.js";

const run = promisify(execFile);

/** The Debian packages the cluster needs (`.ci/run` installs them). */
export const SWIFT_PACKAGES = "swift swift-proxy swift-object swift-container swift-account memcached";
const BIN = {
  proxy: "/usr/bin/swift-proxy-server",
  object: "/usr/bin/swift-object-server",
  container: "/usr/bin/swift-container-server",
  account: "/usr/bin/swift-account-server",
  ringBuilder: "/usr/bin/swift-ring-builder",
  memcached: "/usr/bin/memcached",
} as const;

const STORAGE_NODES = 3;
const SERVER_KINDS = ["object", "container", "account"] as const;
type ServerKind = (typeof SERVER_KINDS)[number];

/**
 * A throwaway OpenStack Swift cluster on 127.0.0.1: three storage nodes (object, container and
 * account servers each, one device per node, every partition on all three: 3 replicas) behind
 * one proxy with the S3 layer (s3api) and tempauth, plus the memcached tempauth needs.
 */
export interface SwiftCluster {
  /** http://127.0.0.1:<port> of the proxy, for an S3 client with path-style addressing. */
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  storageNodes: number;
  /** SIGKILLs the three servers of storage node `index` (0-based): a crashed machine. */
  killStorageNode(index: number): Promise<void>;
  /** Starts the servers of a killed storage node again, on its data; resolves once they answer. */
  restartStorageNode(index: number): Promise<void>;
  /** The running processes (memcached, the proxy, the storage servers): to measure or place them. */
  pids(): number[];
  /** Stops every process and removes every file of the cluster. */
  stop(): Promise<void>;
  /** SIGKILLs every process and removes the files at once: for a process `exit` hook. */
  killNow(): void;
}

export interface SwiftClusterOptions {
  /** How long to wait for the first S3 call to succeed (default 60 s; the proxy takes ~12 s). */
  readyTimeoutMs?: number;
  /** Progress lines (default: stderr). */
  log?: (line: string) => void;
}

/** The tempauth user the proxy is configured with, as S3 credentials. */
const CREDENTIALS = { accessKeyId: "test:tester", secretAccessKey: "testing", region: "us-east-1" };

interface NodePorts {
  object: number;
  container: number;
  account: number;
}

/**
 * Starts a cluster; clusters started by test files running in parallel start one after the
 * other (each ~20 s alone), so none waits past its timeout behind the others.
 */
export function startSwiftCluster(options: SwiftClusterOptions = {}): Promise<SwiftCluster> {
  return oneAtATime("omnigate-swift-start", () => startNow(options));
}

async function startNow(options: SwiftClusterOptions): Promise<SwiftCluster> {
  // The pinned AWS SDK warns that later releases will need Node 22; noise in test output.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const log = options.log ?? ((line: string) => process.stderr.write(`[swift] ${line}\n`));
  const missing = Object.values(BIN).filter((bin) => !existsSync(bin));
  if (missing.length > 0) {
    throw new Error(
      `${missing.join(", ")} missing: install the Debian packages ${SWIFT_PACKAGES} (apt-get install -y ${SWIFT_PACKAGES})`,
    );
  }
  const started = Date.now();
  const dir = tempDir("omnigate-swift-");
  const processes = new Set<ChildProcess>();
  const nodeProcesses: ChildProcess[][] = [];
  const outputs = new Map<ChildProcess, string[]>();
  const spawnServer = (bin: string, args: string[]): ChildProcess => {
    // detached: each server leads its own process group, so a kill reaches any worker it forks.
    const child = spawn(bin, args, { detached: true, stdio: ["ignore", "pipe", "pipe"] });
    const tail: string[] = [];
    const keep = (data: Buffer) => {
      tail.push(...data.toString("utf8").split("\n").filter(Boolean));
      tail.splice(0, Math.max(0, tail.length - 20));
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    outputs.set(child, tail);
    processes.add(child);
    child.once("exit", () => processes.delete(child));
    return child;
  };
  // Servers run detached (own process groups): if this process exits without stop(), say a
  // test run that ends early, they would outlive it. This synchronous hook kills them anyway.
  const killNow = () => {
    for (const child of processes) signalGroup(child, "SIGKILL");
    dir.remove();
  };
  process.once("exit", killNow);
  const stopAll = async () => {
    process.off("exit", killNow);
    await Promise.all([...processes].map((child) => killGroup(child, "SIGTERM")));
    dir.remove();
  };

  try {
    const nodePorts: NodePorts[] = [];
    for (let i = 0; i < STORAGE_NODES; i++) {
      nodePorts.push({ object: await freePort(), container: await freePort(), account: await freePort() });
    }
    const proxyPort = await freePort();
    const memcachedPort = await freePort();
    const swiftDir = join(dir.path, "etc");
    mkdirSync(swiftDir);
    writeFileSync(join(swiftDir, "swift.conf"), SWIFT_CONF);
    // Storage servers read no ring at start: build the rings while they boot (the proxy needs them).
    const rings = Promise.all(SERVER_KINDS.map((kind) => buildRing(swiftDir, kind, nodePorts)));

    spawnServer(BIN.memcached, ["-l", "127.0.0.1", "-p", String(memcachedPort), "-U", "0", "-u", "nobody"]);
    const confs: string[][] = [];
    for (let i = 0; i < STORAGE_NODES; i++) {
      const devices = join(dir.path, `node${i + 1}`);
      mkdirSync(join(devices, "d1"), { recursive: true });
      const ports = nodePorts[i] as NodePorts;
      confs.push(
        SERVER_KINDS.map((kind) => {
          const conf = join(swiftDir, `${kind}-server-${i + 1}.conf`);
          writeFileSync(conf, storageServerConf(kind, ports[kind], devices, swiftDir));
          return conf;
        }),
      );
    }
    const startNode = (i: number) => {
      nodeProcesses[i] = SERVER_KINDS.map((kind, k) =>
        spawnServer(BIN[kind], [(confs[i] as string[])[k] as string, "--verbose"]),
      );
    };
    for (let i = 0; i < STORAGE_NODES; i++) startNode(i);
    await rings;
    const proxyConf = join(swiftDir, "proxy-server.conf");
    writeFileSync(proxyConf, proxyServerConf(proxyPort, memcachedPort, swiftDir));
    const proxy = spawnServer(BIN.proxy, [proxyConf, "--verbose"]);

    const endpoint = `http://127.0.0.1:${proxyPort}`;
    log(`starting 3 storage nodes and a proxy at ${endpoint} in ${dir.path}`);
    const timeoutMs = options.readyTimeoutMs ?? 60_000;
    await waitForS3(
      endpoint,
      timeoutMs,
      () => {
        const dead = [...outputs.keys()].filter((c) => c.exitCode !== null || c.signalCode !== null);
        return dead
          .map((c) => `${c.spawnfile} exited: ${(outputs.get(c) ?? []).slice(-5).join(" | ")}`)
          .join("; ");
      },
      () => (outputs.get(proxy) ?? []).slice(-5).join(" | "),
    );
    log(`ready after ${((Date.now() - started) / 1000).toFixed(1)} s`);

    const checkIndex = (index: number) => {
      if (!Number.isInteger(index) || index < 0 || index >= STORAGE_NODES) {
        throw new Error(`storage node index ${index} is not in 0..${STORAGE_NODES - 1}`);
      }
    };
    return {
      endpoint,
      ...CREDENTIALS,
      storageNodes: STORAGE_NODES,
      killStorageNode: async (index) => {
        checkIndex(index);
        await Promise.all((nodeProcesses[index] ?? []).map((child) => killGroup(child, "SIGKILL")));
        log(`storage node ${index} killed`);
      },
      restartStorageNode: async (index) => {
        checkIndex(index);
        if ((nodeProcesses[index] ?? []).some((c) => c.exitCode === null && c.signalCode === null)) {
          throw new Error(`storage node ${index} is still running; kill it first`);
        }
        startNode(index);
        const ports = nodePorts[index] as NodePorts;
        await Promise.all(SERVER_KINDS.map((kind) => waitForHealthcheck(ports[kind], timeoutMs)));
        log(`storage node ${index} restarted`);
      },
      pids: () => [...processes].flatMap((child) => (child.pid === undefined ? [] : [child.pid])),
      stop: stopAll,
      killNow,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

async function buildRing(swiftDir: string, kind: ServerKind, nodes: NodePorts[]): Promise<void> {
  const builder = join(swiftDir, `${kind}.builder`);
  // 2^8 partitions, 3 replicas, min 1 hour between moves (irrelevant here: built once).
  await run(BIN.ringBuilder, [builder, "create", "8", "3", "1"]);
  const devices = nodes.flatMap((ports, i) => [`r1z${i + 1}-127.0.0.1:${ports[kind]}/d1`, "100"]);
  await run(BIN.ringBuilder, [builder, "add", ...devices]);
  await run(BIN.ringBuilder, [builder, "rebalance"]).catch((error: { code?: number }) => {
    // swift-ring-builder exits 1 for "rebalance done, with warnings"; 2 is a real failure.
    if (error.code !== 1) throw error;
  });
}

/** Any S3 call answered: the proxy, tempauth, memcached and a quorum of storage nodes work. */
async function waitForS3(
  endpoint: string,
  timeoutMs: number,
  deadServers: () => string,
  proxyTail: () => string,
): Promise<void> {
  const client = new S3Client({
    endpoint,
    forcePathStyle: true,
    ...CREDENTIALS,
    credentials: CREDENTIALS,
    maxAttempts: 1,
  });
  const until = Date.now() + timeoutMs;
  let last = "no attempt yet";
  try {
    while (Date.now() < until) {
      const dead = deadServers();
      if (dead) throw new Error(`Swift did not start: ${dead}`);
      try {
        // A bucket create and delete touches the account, container and proxy layers.
        const bucket = `probe-${process.pid}`;
        await client.send(new CreateBucketCommand({ Bucket: bucket }));
        await client.send(new DeleteBucketCommand({ Bucket: bucket }));
        return;
      } catch (error) {
        last = (error as Error).message || (error as Error).name;
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  } finally {
    client.destroy();
  }
  throw new Error(
    `Swift's S3 API at ${endpoint} did not answer within ${timeoutMs} ms; last failure: ${last}; proxy output: ${proxyTail()}`,
  );
}

async function waitForHealthcheck(port: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last = "no attempt yet";
  while (Date.now() < until) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthcheck`);
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`Swift server on port ${port} did not become healthy within ${timeoutMs} ms: ${last}`);
}

/** Signals a server and waits for it to exit; one that ignores SIGTERM for 5 s gets SIGKILL. */
function killGroup(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => signalGroup(child, "SIGKILL"), 5_000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    signalGroup(child, signal);
  });
}

/** Signals the server and any worker it forked (it leads its own process group). */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-(child.pid as number), signal);
  } catch {
    child.kill(signal);
  }
}

const SWIFT_CONF = `[swift-hash]
swift_hash_path_suffix = omnigate-test
swift_hash_path_prefix = omnigate-test

[storage-policy:0]
name = Policy-0
default = yes
`;

/** Servers run as the current user (root in CI), so the temp dir needs no chown to user swift. */
function commonDefaults(port: number, swiftDir: string): string {
  return `[DEFAULT]
bind_ip = 127.0.0.1
bind_port = ${port}
swift_dir = ${swiftDir}
user = ${userInfo().username}
workers = 0
log_level = WARNING
`;
}

function storageServerConf(kind: ServerKind, port: number, devices: string, swiftDir: string): string {
  return `${commonDefaults(port, swiftDir)}devices = ${devices}
mount_check = false

[pipeline:main]
pipeline = healthcheck ${kind}-server

[filter:healthcheck]
use = egg:swift#healthcheck

[app:${kind}-server]
use = egg:swift#${kind}
`;
}

function proxyServerConf(port: number, memcachedPort: number, swiftDir: string): string {
  return `${commonDefaults(port, swiftDir)}
[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats s3api tempauth copy slo dlo proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true

[filter:catch_errors]
use = egg:swift#catch_errors

[filter:gatekeeper]
use = egg:swift#gatekeeper

[filter:healthcheck]
use = egg:swift#healthcheck

[filter:proxy-logging]
use = egg:swift#proxy_logging

[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:${memcachedPort}

[filter:listing_formats]
use = egg:swift#listing_formats

[filter:s3api]
use = egg:swift#s3api
location = us-east-1

[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = testing .admin

[filter:copy]
use = egg:swift#copy

[filter:slo]
use = egg:swift#slo

[filter:dlo]
use = egg:swift#dlo
`;
}
