import { readdirSync, readFileSync, writeFileSync } from "node:fs";

/** A /proc/<pid>/status field in bytes (Linux; the field is reported in kB). */
function statusBytes(pid: number, field: string): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status);
  if (!match) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

/** Resident set size of a process now. */
export function rssBytes(pid: number): number {
  return statusBytes(pid, "VmRSS");
}

/** Peak resident set size since the process started or since resetPeakRss(). */
export function peakRssBytes(pid: number): number {
  return statusBytes(pid, "VmHWM");
}

/**
 * Resets the peak RSS to the current RSS (writes 5 to /proc/<pid>/clear_refs, Linux ≥ 4.0),
 * so a later peakRssBytes() measures only what happened after this call.
 */
export function resetPeakRss(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, "5");
}

/** Open file descriptors of a process (sockets, files, pipes, epoll…). */
export function openFdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}
