/**
 * Injected faults: on a schedule, one dependency at a time is crashed with SIGKILL, left down
 * for a while, and started again. Every crash opens a fault window for that dependency, from
 * the kill until `graceMs` after it answered again; requests that overlap a window of a
 * dependency they use are counted apart ("during injected fault").
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Restartable } from "./services.js";

export type Dependency = "backend" | "redis";

export interface FaultWindow {
  dependency: Dependency;
  /** When the SIGKILL was sent (ms since the run started). */
  killedAt: number;
  /** When the dependency answered again (its restart finished); undefined while down. */
  readyAt: number | undefined;
  /** readyAt + grace: the end of the window; undefined while it is open. */
  endsAt: number | undefined;
  /** Time from readyAt to the first success of an operation that uses the dependency. */
  recoveredAt: number | undefined;
  /** The restart failed (the run stops injecting then). */
  error?: string;
}

export class FaultLog {
  readonly windows: FaultWindow[] = [];

  constructor(private readonly graceMs: number) {}

  open(dependency: Dependency, at: number): FaultWindow {
    const w: FaultWindow = {
      dependency,
      killedAt: at,
      readyAt: undefined,
      endsAt: undefined,
      recoveredAt: undefined,
    };
    this.windows.push(w);
    return w;
  }

  ready(w: FaultWindow, at: number): void {
    w.readyAt = at;
    w.endsAt = at + this.graceMs;
  }

  /** Whether [start, end] overlaps a window of one of these dependencies (open windows included). */
  overlaps(deps: readonly Dependency[], start: number, end: number): boolean {
    if (deps.length === 0) return false;
    for (let i = this.windows.length - 1; i >= 0; i--) {
      const w = this.windows[i] as FaultWindow;
      if (!deps.includes(w.dependency)) continue;
      if (w.killedAt <= end && (w.endsAt === undefined || w.endsAt >= start)) return true;
    }
    return false;
  }

  /** Dependencies down or in their grace period now. */
  active(now: number): Dependency[] {
    return [
      ...new Set(
        this.windows.filter((w) => w.endsAt === undefined || w.endsAt >= now).map((w) => w.dependency),
      ),
    ];
  }

  /** A success of an operation using `deps` at `at`: closes the recovery of windows that were ready. */
  noteSuccess(deps: readonly Dependency[], start: number, at: number): void {
    for (const w of this.windows) {
      if (
        w.recoveredAt === undefined &&
        w.readyAt !== undefined &&
        start >= w.readyAt &&
        deps.includes(w.dependency)
      )
        w.recoveredAt = at;
    }
  }
}

export interface FaultPlan {
  /** Time between two crashes (of any dependency; they take turns), ms. */
  everyMs: number;
  /** First crash after this, ms. */
  firstAtMs: number;
  /** How long a crashed dependency stays down before it is started again, ms. */
  downMs: number;
  /** No crash starts later than this, ms since the run started. */
  lastAtMs: number;
}

/** The default plan for a run: each dependency crashed every 10 min (5 min apart), less on short runs. */
export function defaultFaultPlan(durationMs: number, everyMs?: number): FaultPlan {
  const every = everyMs ?? Math.min(5 * 60_000, Math.max(15_000, Math.round(durationMs / 6)));
  return {
    everyMs: every,
    firstAtMs: Math.min(every, Math.max(10_000, Math.round(every / 2))),
    downMs: durationMs <= 10 * 60_000 ? 2_000 : 5_000,
    // Leave room for the restart and a recovery to be seen before the run ends.
    lastAtMs: durationMs - Math.max(15_000, Math.min(60_000, durationMs / 10)),
  };
}

/**
 * Runs the plan until `signal` aborts: crash, wait `downMs`, start again, alternating over
 * `targets`. Progress goes to `say`.
 */
export async function runFaults(
  plan: FaultPlan,
  targets: readonly { dependency: Dependency; service: Restartable }[],
  log: FaultLog,
  now: () => number,
  signal: AbortSignal,
  say: (line: string) => void,
): Promise<void> {
  let next = plan.firstAtMs;
  for (let i = 0; !signal.aborted && next <= plan.lastAtMs; i++, next += plan.everyMs) {
    const wait = next - now();
    if (wait > 0) {
      try {
        await sleep(wait, undefined, { signal });
      } catch {
        return;
      }
    }
    const target = targets[i % targets.length];
    if (!target) return;
    const w = log.open(target.dependency, now());
    say(`fault: SIGKILL ${target.dependency} (pid ${target.service.pid})`);
    await target.service.crash();
    await sleep(plan.downMs);
    try {
      await target.service.start();
      log.ready(w, now());
      say(
        `fault: ${target.dependency} restarted (pid ${target.service.pid}) after ${((now() - w.killedAt) / 1000).toFixed(1)} s`,
      );
    } catch (err) {
      w.error = err instanceof Error ? err.message : String(err);
      log.ready(w, now());
      say(`fault: ${target.dependency} failed to restart: ${w.error}`);
      return;
    }
  }
}
