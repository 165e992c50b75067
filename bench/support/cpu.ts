import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

/**
 * CPU time used so far, in microseconds (user + system, all threads): this process via
 * getrusage, another one via /proc (Linux; undefined elsewhere). Dividing a window's CPU time by
 * its requests shows which side of the connection pays for each request, which wall-clock
 * throughput alone cannot: on two cores, client and server each have one.
 */
export function cpuMicros(pid?: number): number | undefined {
  if (pid === undefined) {
    const usage = process.cpuUsage();
    return usage.user + usage.system;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the ")" that closes the command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1e6) / clockTicksPerSecond();
  } catch {
    return undefined;
  }
}

let ticksPerSecond: number | undefined;

function clockTicksPerSecond(): number {
  ticksPerSecond ??= Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  return ticksPerSecond;
}
