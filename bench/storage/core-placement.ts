import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

/**
 * How a bench's processes share the cores: `shared`, every process on every core it started
 * with; `store-own-core`, the store's processes on the last of those cores and everything else
 * on the rest, as when the store runs on machines of its own. Placement is by `taskset -a`
 * (every thread; threads started later inherit it).
 */
export type CorePlacement = "shared" | "store-own-core";

export class CorePlacer {
  /** The cores this process may use at start (its cpuset or taskset), read once. */
  private readonly cores = coresAllowed();

  /** False with one core, where the store cannot have a core of its own. */
  canGiveStoreOwnCore(): boolean {
    return this.cores.length >= 2;
  }

  place(placement: CorePlacement, store: readonly number[], others: readonly number[]): void {
    if (placement === "shared") {
      pin(this.cores, [...store, ...others]);
      return;
    }
    pin(this.cores.slice(-1), store);
    pin(this.cores.slice(0, -1), others);
  }
}

function pin(cores: readonly number[], pids: readonly number[]): void {
  for (const pid of pids) {
    execFileSync("taskset", ["-a", "-p", "-c", cores.join(","), String(pid)], { stdio: "ignore" });
  }
}

/** `Cpus_allowed_list` of /proc/self/status, e.g. "0-1" or "0,2-3", as core numbers. */
function coresAllowed(): number[] {
  const list = /^Cpus_allowed_list:\s*(\S+)$/m.exec(readFileSync("/proc/self/status", "utf8"))?.[1] ?? "0";
  return list.split(",").flatMap((range) => {
    const [from, to = from] = range.split("-").map(Number) as [number, number?];
    return Array.from({ length: to - from + 1 }, (_, i) => from + i);
  });
}
