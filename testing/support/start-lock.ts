import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A lock whose holder left no pid this long after taking it is taken as abandoned. */
const PIDLESS_STALE_MS = 10_000;

/**
 * Runs `start` while holding a lock shared by every process on this machine. Test files run in
 * parallel, and several may each start a cluster of servers that takes ~20 s alone on two
 * cores; started all at once, each takes minutes and may miss its timeout. One at a time, each
 * is quick. A lock whose holder died is taken over.
 */
export async function oneAtATime<T>(name: string, start: () => Promise<T>, waitMs = 300_000): Promise<T> {
  const lock = join(tmpdir(), `${name}.lock`);
  const until = Date.now() + waitMs;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, "pid"), String(process.pid));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      if (abandoned(lock)) {
        rmSync(lock, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > until) throw new Error(`waited ${waitMs} ms for ${lock}; remove it if no test runs`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  try {
    return await start();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function abandoned(lock: string): boolean {
  try {
    const pid = Number(readFileSync(join(lock, "pid"), "utf8"));
    process.kill(pid, 0);
    return false;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ESRCH") return true;
    // No pid yet: the holder is between taking the lock and writing it, unless that was long ago.
    if (code === "ENOENT") {
      try {
        return Date.now() - statSync(lock).mtimeMs > PIDLESS_STALE_MS;
      } catch {
        return false; // the lock went away meanwhile: try again
      }
    }
    return false;
  }
}
