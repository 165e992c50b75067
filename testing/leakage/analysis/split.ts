/**
 * Train/test split by session: traces from one session share its timing, path and caches, so a
 * session on both sides would let a learner recognise the session instead of the secret.
 */
import { seededRandom } from "../../support/seeded-random.js";
import type { Trace } from "./trace.js";

export interface SplitOptions {
  /** PRNG seed (default 1): the same seed and traces give the same split. */
  seed?: number;
  /** Share of each class's traces to aim for in the test set (default 0.5). */
  testFraction?: number;
}

export interface Split {
  train: Trace[];
  test: Trace[];
}

interface Session {
  traces: Trace[];
  /** Trace count per label. */
  labels: Map<string, number>;
}

/**
 * Assigns whole sessions to train or test, aiming at `testFraction` of every class in the test
 * set, and guarantees every class appears on both sides (throws when a class's traces all come
 * from one session, since no session split can then put it on both sides).
 */
export function splitBySession(traces: readonly Trace[], options: SplitOptions = {}): Split {
  const testFraction = options.testFraction ?? 0.5;
  if (!(testFraction > 0 && testFraction < 1)) throw new RangeError("testFraction must be in (0, 1)");
  const random = seededRandom(options.seed ?? 1);

  const bySession = new Map<string, Session>();
  for (const trace of traces) {
    let session = bySession.get(trace.session);
    if (!session) {
      session = { traces: [], labels: new Map() };
      bySession.set(trace.session, session);
    }
    session.traces.push(trace);
    session.labels.set(trace.label, (session.labels.get(trace.label) ?? 0) + 1);
  }
  const sessions = shuffle([...bySession.values()], random);

  const totals = new Map<string, number>();
  const sessionsPerLabel = new Map<string, number>();
  for (const session of sessions) {
    for (const [label, count] of session.labels) {
      totals.set(label, (totals.get(label) ?? 0) + count);
      sessionsPerLabel.set(label, (sessionsPerLabel.get(label) ?? 0) + 1);
    }
  }
  for (const [label, count] of sessionsPerLabel) {
    if (count < 2) {
      throw new Error(`label "${label}" occurs in only one session; it cannot be on both sides of the split`);
    }
  }

  // Per-label targets, at least one trace on each side.
  const target = { test: new Map<string, number>(), train: new Map<string, number>() };
  for (const [label, total] of totals) {
    const test = Math.min(total - 1, Math.max(1, Math.round(total * testFraction)));
    target.test.set(label, test);
    target.train.set(label, total - test);
  }
  const counts = { test: new Map<string, number>(), train: new Map<string, number>() };
  const side = new Map<Session, "test" | "train">();
  const place = (session: Session, to: "test" | "train") => {
    const from = side.get(session);
    for (const [label, count] of session.labels) {
      if (from) counts[from].set(label, (counts[from].get(label) ?? 0) - count);
      counts[to].set(label, (counts[to].get(label) ?? 0) + count);
    }
    side.set(session, to);
  };

  // Greedy: each session goes to the side whose labels it holds are relatively further from target.
  const need = (session: Session, to: "test" | "train") => {
    let total = 0;
    for (const [label, count] of session.labels) {
      const goal = target[to].get(label) as number;
      total += (count * (goal - (counts[to].get(label) ?? 0))) / goal;
    }
    return total;
  };
  for (const session of sessions) {
    const test = need(session, "test");
    const train = need(session, "train");
    place(session, test > train || (test === train && random() < testFraction) ? "test" : "train");
  }

  // Sessions holding several labels can still leave a label on one side only: move the smallest
  // session that fixes it without emptying its old side of any of its labels.
  for (let pass = 0; pass < totals.size * 2; pass++) {
    const missing = [...totals.keys()].flatMap((label) =>
      (["test", "train"] as const)
        .filter((to) => (counts[to].get(label) ?? 0) === 0)
        .map((to) => ({ label, to })),
    );
    const first = missing[0];
    if (!first) break;
    const from = first.to === "test" ? "train" : "test";
    const candidates = sessions
      .filter((session) => side.get(session) === from && session.labels.has(first.label))
      .filter((session) =>
        [...session.labels].every(([label, count]) => (counts[from].get(label) ?? 0) - count > 0),
      )
      .sort((a, b) => a.traces.length - b.traces.length);
    const move = candidates[0];
    if (!move) break;
    place(move, first.to);
  }
  for (const label of totals.keys()) {
    for (const to of ["test", "train"] as const) {
      if ((counts[to].get(label) ?? 0) === 0) {
        throw new Error(`could not split sessions so that label "${label}" is in both train and test`);
      }
    }
  }

  const split: Split = { train: [], test: [] };
  for (const session of sessions) split[side.get(session) as "test" | "train"].push(...session.traces);
  return split;
}

/** Fisher–Yates with the seeded generator. */
function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}
