import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { cpuMicros } from "../support/cpu.js";

/**
 * Where a read's CPU went and on which cores the processes run, for the S3 GET bench. On two
 * cores the client, the process in between (the node or the pipe) and Swift's servers share
 * them, so the CPU each used, and how busy the machine was, say what bounds a read.
 */

/** Who ran a read: this process (the client), the server in between (if any) and Swift. */
export interface ReadProcesses {
  server: number | undefined;
  store: readonly number[];
}

/** CPU ms each side used during one read, and the machine's busy share. */
export interface CpuShare {
  clientMs: number;
  serverMs: number;
  /** Swift's processes together (proxy, storage servers, memcached). */
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

/** Starts measuring; the returned function ends it. */
export function measureCpu(processes: ReadProcesses): () => CpuShare {
  const from = cpuNow(processes);
  return () => {
    const to = cpuNow(processes);
    return {
      clientMs: (to.client - from.client) / 1000,
      serverMs: (to.server - from.server) / 1000,
      storeMs: (to.store - from.store) / 1000,
      machineBusyPct: to.total > from.total ? (100 * (to.busy - from.busy)) / (to.total - from.total) : 0,
    };
  };
}

function cpuNow({ server, store }: ReadProcesses): CpuSample {
  // The first line of /proc/stat: jiffies of all CPUs by kind; idle and iowait are not busy.
  const jiffies =
    readFileSync("/proc/stat", "utf8").split("\n")[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
  const total = jiffies.reduce((sum, n) => sum + n, 0);
  const idle = (jiffies[3] ?? 0) + (jiffies[4] ?? 0);
  return {
    client: cpuMicros() ?? 0,
    server: server === undefined ? 0 : (cpuMicros(server) ?? 0),
    store: store.reduce((sum, pid) => sum + (cpuMicros(pid) ?? 0), 0),
    busy: total - idle,
    total,
  };
}

/**
 * How the processes share the cores: `shared`, every process on every core (how they start);
 * `store-own-core`, Swift on the last core and everything else on the others, as when the
 * store runs on machines of its own.
 */
export type CorePlacement = "shared" | "store-own-core";

/** False on a machine with one core, where the store cannot have a core of its own. */
export function canGiveStoreOwnCore(): boolean {
  return availableParallelism() >= 2;
}

/** Places the processes (every thread: `taskset -a`; threads started later inherit it). */
export function placeProcesses(
  placement: CorePlacement,
  store: readonly number[],
  others: readonly number[],
): void {
  const last = availableParallelism() - 1;
  const all = `0-${last}`;
  const pin = (cores: string, pids: readonly number[]) => {
    for (const pid of pids)
      execFileSync("taskset", ["-a", "-p", "-c", cores, String(pid)], { stdio: "ignore" });
  };
  if (placement === "shared") {
    pin(all, [...store, ...others]);
    return;
  }
  pin(String(last), store);
  pin(last === 1 ? "0" : `0-${last - 1}`, others);
}
