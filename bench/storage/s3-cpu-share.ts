import { readFileSync } from "node:fs";
import { cpuMicros } from "../support/cpu.js";

/**
 * Where a read's CPU went, for the S3 GET bench. On two cores the client, the process in between
 * (the node or the pipe) and Swift's processes share them, so the CPU each used, and how busy
 * the machine was, say what bounds a read. Figures come in clock ticks (10 ms on Linux).
 */

/** Who ran a read besides this process (the client): the server in between, if any, and Swift. */
export interface ReadProcesses {
  server: number | undefined;
  swift: readonly number[];
}

/** CPU ms each side used during one read, and the machine's busy share. */
export interface CpuShare {
  clientMs: number;
  serverMs: number;
  /** Swift's processes together (proxy, storage servers, memcached). */
  swiftMs: number;
  machineBusyPct: number;
}

interface CpuSample {
  client: number;
  server: number;
  swift: number;
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
      swiftMs: (to.swift - from.swift) / 1000,
      machineBusyPct: to.total > from.total ? (100 * (to.busy - from.busy)) / (to.total - from.total) : 0,
    };
  };
}

function cpuNow({ server, swift }: ReadProcesses): CpuSample {
  // The first line of /proc/stat: jiffies of all CPUs by kind; idle and iowait are not busy.
  const jiffies =
    readFileSync("/proc/stat", "utf8").split("\n")[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
  const total = jiffies.reduce((sum, n) => sum + n, 0);
  const idle = (jiffies[3] ?? 0) + (jiffies[4] ?? 0);
  return {
    client: cpuMicros() ?? 0,
    server: server === undefined ? 0 : (cpuMicros(server) ?? 0),
    swift: swift.reduce((sum, pid) => sum + (cpuMicros(pid) ?? 0), 0),
    busy: total - idle,
    total,
  };
}
