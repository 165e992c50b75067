import { cpSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { RootKeyRing } from "../../packages/node/src/auth/root-keys.js";
import { loadTlsMaterial } from "../../packages/node/src/index.js";
import { freePort } from "./free-port.js";
import { type NodeProcess, startNodeProcess } from "./node-process.js";
import { tempDir } from "./temp-dir.js";

/** Several `omnigate` processes that form one cluster (specs/oap-1.md §8.2) on 127.0.0.1. */
export interface OmnigateCluster {
  /** oap+tls:// URL of each node, in order; every node's HELLO lists all of them. */
  readonly urls: string[];
  /** The CA every node's certificate is signed by, and its file. */
  readonly caPem: string;
  readonly caFile: string;
  /** The root key ring file every node reads (`auth.root_keys_file`). */
  readonly rootKeysFile: string;
  /** A capability for tenant 0 minted under the shared root keys: valid on every node. */
  readonly devCap: string;
  /** The running process of node `i`, undefined while it is down. */
  node(i: number): NodeProcess | undefined;
  /** SIGKILL of node `i` (no shutdown runs); resolves once it exited. */
  kill(i: number): Promise<void>;
  /** Starts node `i` again on its port and data dir. */
  restart(i: number): Promise<void>;
  stop(): Promise<void>;
}

export interface OmnigateClusterOptions {
  nodes?: number;
  /** Where the shared files and each node's data dir go (kept); default a temp dir removed at stop. */
  dir?: string;
  /** Every line each node prints (its JSON log), with the node's index. */
  onLine?: (node: number, line: string) => void;
  /** Flags every node gets: the shared engines (mailbox, storage, quotas, revocations). */
  flags?: string[];
  /** Capabilities on (default true): the shared root key ring is what makes a cap valid everywhere. */
  auth?: boolean;
}

/**
 * Starts `nodes` nodes with what a cluster shares: one root key ring file (`auth.root_keys_file`),
 * one TLS CA and server certificate (copied into each data dir, so clients trust one CA), and
 * `cluster.nodes` naming every node's fixed port. The engines come from `flags`.
 */
export async function startOmnigateCluster(options: OmnigateClusterOptions = {}): Promise<OmnigateCluster> {
  const count = options.nodes ?? 3;
  const auth = options.auth ?? true;
  const shared = options.dir ? { path: options.dir, remove: () => {} } : tempDir("omnigate-cluster-");
  const rootKeysFile = join(shared.path, "root-keys.json");
  await RootKeyRing.open(undefined, Date.now, rootKeysFile);
  const tls = await loadTlsMaterial({ dataDir: shared.path, cert: "", key: "" });
  const ports = await Promise.all(Array.from({ length: count }, () => freePort()));
  const urls = ports.map((port) => `oap+tls://127.0.0.1:${port}`);
  const dataDirs = ports.map((_, i) => {
    const dir = join(shared.path, `node${i + 1}`);
    mkdirSync(dir, { recursive: true });
    cpSync(join(shared.path, "tls"), join(dir, "tls"), { recursive: true });
    return dir;
  });
  const flagsOf = (i: number) => [
    "--listen",
    `127.0.0.1:${ports[i]}`,
    "--node-id",
    `node${i + 1}`,
    "--cluster-nodes",
    urls.join(","),
    "--auth-root-keys-file",
    rootKeysFile,
    "--auth-mode",
    auth ? "on" : "off",
    ...(options.flags ?? []),
  ];
  const running: Array<NodeProcess | undefined> = new Array(count).fill(undefined);
  const start = async (i: number) => {
    const onLine = options.onLine;
    running[i] = await startNodeProcess(flagsOf(i), {
      dataDir: dataDirs[i],
      ...(onLine ? { onLine: (line: string) => onLine(i, line) } : {}),
    });
  };
  const stopAll = () =>
    Promise.all(running.map((node, i) => node?.stop().then(() => (running[i] = undefined))));
  // All settled before a failure is handled: a node still starting must be stopped too.
  const starts = await Promise.allSettled(ports.map((_, i) => start(i)));
  const failed = starts.find((result) => result.status === "rejected");
  if (failed) {
    await stopAll();
    shared.remove();
    throw failed.reason;
  }
  const devCap = auth ? readFileSync(join(dataDirs[0] as string, "auth", "dev.cap"), "utf8").trim() : "";
  return {
    urls,
    caPem: tls.caPem as string,
    caFile: tls.caFile as string,
    rootKeysFile,
    devCap,
    node: (i) => running[i],
    kill: async (i) => {
      await running[i]?.kill();
      running[i] = undefined;
    },
    restart: async (i) => {
      if (running[i]) throw new Error(`node ${i + 1} is running`);
      await start(i);
    },
    stop: async () => {
      await stopAll();
      shared.remove();
    },
  };
}
