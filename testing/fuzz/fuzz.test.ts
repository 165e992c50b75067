import { existsSync, readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { tempDir } from "../support/temp-dir.js";
import { fuzz, loadCorpus, loadCrashes } from "./fuzzer.js";
import { FUZZ_TARGETS, type FuzzTarget } from "./targets.js";

/**
 * CI side of the fuzzer: every committed corpus entry and every crash reproducer is replayed
 * (a reproducer fails here until the bug it found is fixed), then each target is fuzzed for a
 * short bounded time. `npm run fuzz` runs longer and grows the corpus.
 */
const SHORT_RUN_MS = 3_000;

describe.each(Object.values(FUZZ_TARGETS).map((t) => [t.name, t] as const))(
  "fuzz target %s",
  (name, target) => {
    it("has a committed corpus", () => {
      expect(loadCorpus(name).length).toBeGreaterThan(0);
    });

    it("replays every corpus entry and seed without a crash", () => {
      for (const { name: entry, bytes } of [
        ...loadCorpus(name),
        ...target.seeds().map((bytes) => ({ name: "seed", bytes })),
      ]) {
        expect(() => target.run(bytes), `corpus/${name}/${entry}`).not.toThrow();
      }
    });

    it("replays every crash reproducer without a crash", () => {
      for (const { name: file, bytes } of loadCrashes(name)) {
        expect(() => target.run(bytes), `crashes/${file}`).not.toThrow();
      }
    });

    it(`fuzzes for ${SHORT_RUN_MS / 1000} s, guided by coverage, without a crash`, () => {
      const crashDir = tempDir("omnigate-fuzz-");
      try {
        const report = fuzz(target, { durationMs: SHORT_RUN_MS, seed: 1, crashDir: crashDir.path });
        expect(report.crashes).toEqual([]);
        expect(report.execs).toBeGreaterThan(100);
        expect(report.blocks).toBeGreaterThan(0);
      } finally {
        crashDir.remove();
      }
    });
  },
);

describe("the fuzzer itself", () => {
  it("finds a planted bug by coverage and writes a reproducer that replays the crash", () => {
    // A parser with a bug three branches deep: only inputs that pass each check reach it.
    const planted: FuzzTarget = {
      name: "planted",
      coverage: ["testing/fuzz/fuzz.test"],
      seeds: () => [Buffer.from("aaaa")],
      run(input) {
        if (input[0] === 0x4f) {
          if (input[1] === 0x41) {
            if (input[2] === 0x50) throw new TypeError("planted bug");
          }
        }
      },
    };
    const crashDir = tempDir("omnigate-fuzz-planted-");
    try {
      const report = fuzz(planted, {
        durationMs: 60_000,
        seed: 3,
        crashDir: crashDir.path,
        stopOnCrash: true,
      });
      expect(report.crashes).toHaveLength(1);
      expect(existsSync(report.crashes[0] as string)).toBe(true);
      const [repro] = loadCrashes("planted", crashDir.path);
      expect(repro).toBeDefined();
      expect(() => planted.run(repro?.bytes ?? new Uint8Array(0))).toThrow("planted bug");
      expect(readdirSync(crashDir.path).some((f) => f.endsWith(".bin.txt"))).toBe(true);
    } finally {
      crashDir.remove();
    }
  }, 90_000);
});
