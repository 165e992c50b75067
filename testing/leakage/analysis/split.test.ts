import { describe, expect, it } from "vitest";
import { seededRandom } from "../../support/seeded-random.js";
import { splitBySession } from "./split.js";
import type { Trace } from "./trace.js";

/** `sessions` sessions of random size 1–6; in mixed mode a session's traces carry random labels. */
function traces(sessions: number, labels: string[], mixed: boolean, seed: number): Trace[] {
  const random = seededRandom(seed);
  const out: Trace[] = [];
  for (let s = 0; s < sessions; s++) {
    const own = labels[s % labels.length] as string;
    const size = 1 + Math.floor(random() * 6);
    for (let i = 0; i < size; i++) {
      const label = mixed ? (labels[Math.floor(random() * labels.length)] as string) : own;
      out.push({ label, session: `s${s}`, packets: [] });
    }
  }
  return out;
}

function sessionsOf(list: Trace[]): Set<string> {
  return new Set(list.map((t) => t.session));
}

function labelCounts(list: Trace[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const t of list) counts.set(t.label, (counts.get(t.label) ?? 0) + 1);
  return counts;
}

describe("splitBySession", () => {
  for (const mixed of [false, true]) {
    it(`never puts a session on both sides and has every class on both (${mixed ? "mixed" : "one label per"} session)`, () => {
      const labels = ["a", "b", "c", "d"];
      const all = traces(60, labels, mixed, 11);
      for (const seed of [1, 2, 3, 4, 5]) {
        const { train, test } = splitBySession(all, { seed });
        expect(train.length + test.length).toBe(all.length);
        const trainSessions = sessionsOf(train);
        for (const session of sessionsOf(test)) expect(trainSessions.has(session)).toBe(false);
        for (const label of labels) {
          expect(labelCounts(train).get(label) ?? 0).toBeGreaterThan(0);
          expect(labelCounts(test).get(label) ?? 0).toBeGreaterThan(0);
        }
      }
    });
  }

  it("keeps every class on both sides with only two sessions per class", () => {
    const all = traces(6, ["a", "b", "c"], false, 3);
    const { train, test } = splitBySession(all, { seed: 9 });
    expect([...labelCounts(train).keys()].sort()).toEqual(["a", "b", "c"]);
    expect([...labelCounts(test).keys()].sort()).toEqual(["a", "b", "c"]);
  });

  it("is deterministic for a seed and roughly honours testFraction per class", () => {
    const all = traces(200, ["a", "b"], false, 5);
    const first = splitBySession(all, { seed: 7, testFraction: 0.3 });
    expect(splitBySession(all, { seed: 7, testFraction: 0.3 })).toEqual(first);
    const total = labelCounts(all);
    const test = labelCounts(first.test);
    for (const label of ["a", "b"]) {
      const share = (test.get(label) ?? 0) / (total.get(label) as number);
      expect(share).toBeGreaterThan(0.25);
      expect(share).toBeLessThan(0.35);
    }
  });

  it("refuses a label that occurs in a single session", () => {
    const all: Trace[] = [
      { label: "a", session: "s1", packets: [] },
      { label: "a", session: "s2", packets: [] },
      { label: "b", session: "s3", packets: [] },
      { label: "b", session: "s3", packets: [] },
    ];
    expect(() => splitBySession(all)).toThrow(/label "b" occurs in only one session/);
  });
});
