import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { freePort } from "./free-port.js";
import { tempDir } from "./temp-dir.js";

export const NATS_SERVER = "/usr/sbin/nats-server";

/** A throwaway nats-server cluster with JetStream on 127.0.0.1, its state in one temp dir. */
export interface NatsCluster {
  /** nats://127.0.0.1:<port> of each server, in server order. */
  urls: string[];
  /** Kills server `i` with SIGKILL (a crash: nothing is flushed) and waits for it to exit. */
  kill(i: number): Promise<void>;
  /** Starts server `i` again on the same ports and store dir; resolves once it takes clients. */
  restart(i: number): Promise<void>;
  /** Stops every server and removes the state. */
  stop(): Promise<void>;
}

export interface NatsClusterOptions {
  nodes?: number;
  /** How long the cluster may take until JetStream takes R(nodes) streams. */
  readyTimeoutMs?: number;
}

interface ServerSlot {
  name: string;
  port: number;
  clusterPort: number;
  config: string;
  child?: ChildProcess;
}

export async function startNatsCluster(options: NatsClusterOptions = {}): Promise<NatsCluster> {
  if (!existsSync(NATS_SERVER)) {
    throw new Error(`${NATS_SERVER} is missing: install Debian's nats-server (apt-get install nats-server)`);
  }
  const nodes = options.nodes ?? 3;
  const dir = tempDir("omnigate-nats-");
  const slots: ServerSlot[] = [];
  for (let i = 0; i < nodes; i++) {
    slots.push({ name: `n${i + 1}`, port: await freePort(), clusterPort: await freePort(), config: "" });
  }
  const routes = slots.map((s) => `nats-route://127.0.0.1:${s.clusterPort}`);
  for (const slot of slots) {
    const store = join(dir.path, slot.name);
    mkdirSync(store, { recursive: true });
    slot.config = join(dir.path, `${slot.name}.conf`);
    writeFileSync(slot.config, serverConfig(slot, store, routes));
  }
  const cluster: NatsCluster = {
    urls: slots.map((s) => `nats://127.0.0.1:${s.port}`),
    async kill(i) {
      await stopChild(slotAt(slots, i).child, "SIGKILL");
    },
    async restart(i) {
      const slot = slotAt(slots, i);
      await stopChild(slot.child, "SIGKILL");
      slot.child = launch(slot);
      await waitForClients(slot, 10_000);
    },
    async stop() {
      await Promise.all(slots.map((s) => stopChild(s.child, "SIGTERM")));
      dir.remove();
    },
  };
  try {
    for (const slot of slots) slot.child = launch(slot);
    await waitForJetStream(cluster.urls, slots, nodes, options.readyTimeoutMs ?? 20_000);
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}

function serverConfig(slot: ServerSlot, store: string, routes: string[]): string {
  // A cluster of one has no routes: nats-server then runs JetStream standalone.
  const cluster =
    routes.length > 1
      ? `cluster {\n  name: omni\n  listen: 127.0.0.1:${slot.clusterPort}\n  routes: [\n    ${routes.join("\n    ")}\n  ]\n}\n`
      : "";
  return `server_name: ${slot.name}\nlisten: 127.0.0.1:${slot.port}\njetstream {\n  store_dir: "${store}"\n}\n${cluster}`;
}

function launch(slot: ServerSlot): ChildProcess {
  const child = spawn(NATS_SERVER, ["-c", slot.config], { stdio: "ignore" });
  child.on("error", () => {}); // an exit code tells the waiting side
  return child;
}

function slotAt(slots: ServerSlot[], i: number): ServerSlot {
  const slot = slots[i];
  if (!slot) throw new Error(`no nats server ${i} (the cluster has ${slots.length})`);
  return slot;
}

/** Ready means the meta leader is elected: an R(nodes) stream can be created and removed. */
async function waitForJetStream(
  urls: string[],
  slots: ServerSlot[],
  replicas: number,
  timeoutMs: number,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < until) {
    const exited = slots.find((s) => s.child?.exitCode !== null);
    if (exited) throw new Error(`nats-server ${exited.name} exited with code ${exited.child?.exitCode}`);
    try {
      const nc = await connect({ servers: urls, reconnect: false, timeout: 1000 });
      try {
        const jsm = await jetstreamManager(nc, { timeout: 2000 });
        await jsm.streams.add({
          name: "omnigate_probe",
          subjects: ["omnigate.probe"],
          num_replicas: replicas,
        });
        await jsm.streams.delete("omnigate_probe");
        return;
      } finally {
        await nc.close();
      }
    } catch (err) {
      last = err;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the nats cluster had no JetStream meta leader within ${timeoutMs} ms (${String(last)})`);
}

async function waitForClients(slot: ServerSlot, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (slot.child?.exitCode !== null) throw new Error(`nats-server ${slot.name} exited on restart`);
    try {
      const nc = await connect({ servers: `nats://127.0.0.1:${slot.port}`, reconnect: false, timeout: 500 });
      await nc.close();
      return;
    } catch (err) {
      if (Date.now() >= until)
        throw new Error(`nats-server ${slot.name} took no clients within ${timeoutMs} ms (${String(err)})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function stopChild(child: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill(signal);
  });
}
