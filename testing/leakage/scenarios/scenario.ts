import type { TappedConnection } from "../../support/tls-tap.js";
import type { Trace } from "../analysis/trace.js";
import { packetsBetween } from "../packets-between.js";
import type { LeakageRig, Shaping } from "../rig.js";

/** What one session of a scenario yields: its traces, and what the defence cost in it. */
export interface SessionResult {
  traces: Trace[];
  /** Per action, ms from its start until the user had what they asked for. */
  latenciesMs: number[];
  /** Bytes on the observed connection over the whole session, both directions. */
  wireBytes: number;
  /** Wall time of the session's actions, ms. */
  durationMs: number;
}

/** One secret the observer tries to learn, and how a user's session produces it. */
export interface Scenario {
  name: string;
  /** What the label is, in words, for the report. */
  secret: string;
  classes: readonly string[];
  /**
   * One observed session: connects through the tap with `shaping`, performs one action per
   * label in `labels` (in that order) and returns a trace per action, its `session` set to
   * `sessionId`. `random` is the session's seeded generator.
   */
  session(
    rig: LeakageRig,
    options: { shaping: Shaping; labels: string[]; sessionId: string; random: () => number },
  ): Promise<SessionResult>;
  /** Anything a scenario sets up once per rig (objects to fetch, a chat peer). */
  prepare?(rig: LeakageRig): Promise<void>;
  /** Undoes prepare. */
  dispose?(): Promise<void>;
}

/** The tail after an action's end that still belongs to its window (delayed or trailing records). */
export function windowTailMs(shaping: Shaping): number {
  return 40 + (shaping?.jitterMs ?? 0);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Runs one action per label, one after another, each timed from its start until `act`
 * resolves; its trace is what the wire carried from its start until `tailMs` after its end
 * (the wait is part of the session, so stragglers never open the next window).
 */
export async function timedActions(
  wire: TappedConnection,
  options: { labels: string[]; sessionId: string; tailMs: number },
  act: (label: string) => Promise<unknown>,
): Promise<SessionResult> {
  const traces: Trace[] = [];
  const latenciesMs: number[] = [];
  const sessionStart = performance.now();
  for (const label of options.labels) {
    const start = performance.now();
    await act(label);
    const end = performance.now();
    latenciesMs.push(end - start);
    await sleep(options.tailMs);
    traces.push({
      label,
      session: options.sessionId,
      packets: packetsBetween(wire, start, end + options.tailMs),
    });
  }
  return finishSession(wire, sessionStart, traces, latenciesMs);
}

/** A session's result once its last action is done: its cost is read off the wire from `sessionStart` to now. */
export function finishSession(
  wire: { readonly packets: ReadonlyArray<{ at: number; bytes: number }> },
  sessionStart: number,
  traces: Trace[],
  latenciesMs: number[],
): SessionResult {
  const sessionEnd = performance.now();
  return {
    traces,
    latenciesMs,
    wireBytes: bytesBetween(wire.packets, sessionStart, sessionEnd),
    durationMs: sessionEnd - sessionStart,
  };
}

/** Total bytes of the records seen between two times. */
export function bytesBetween(
  packets: ReadonlyArray<{ at: number; bytes: number }>,
  from: number,
  to: number,
): number {
  let sum = 0;
  for (const p of packets) if (p.at >= from && p.at <= to) sum += p.bytes;
  return sum;
}
