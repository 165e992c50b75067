import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { BlockCoverage } from "./coverage.js";
import { mutate, Rng } from "./mutate.js";
import type { FuzzTarget } from "./targets.js";

const FUZZ_DIR = fileURLToPath(new URL(".", import.meta.url));
export const CORPUS_ROOT = join(FUZZ_DIR, "corpus");
export const CRASH_DIR = join(FUZZ_DIR, "crashes");

/** Longest input the fuzzer makes (the targets' interesting structure lives in the first KiBs). */
const MAX_INPUT = 16 * 1024;
/** Mutants run between two coverage reads. */
const BATCH = 32;

export interface FuzzOptions {
  durationMs: number;
  /** PRNG seed (default: from the clock). */
  seed?: number;
  /** Write inputs that reach new blocks into corpus/<target>/. */
  save?: boolean;
  /** Where crash reproducers go (default crashes/). */
  crashDir?: string;
  /** End the run at the first crash. */
  stopOnCrash?: boolean;
}

export interface FuzzReport {
  target: string;
  seed: number;
  execs: number;
  durationMs: number;
  /** Distinct watched blocks executed so far, over all inputs. */
  blocks: number;
  corpus: number;
  added: number;
  crashes: string[];
}

export function corpusDir(target: string): string {
  return join(CORPUS_ROOT, target);
}

export function inputName(input: Uint8Array): string {
  return createHash("sha256").update(input).digest("hex").slice(0, 20);
}

/** The committed corpus of a target. */
export function loadCorpus(target: string): Array<{ name: string; bytes: Uint8Array }> {
  const dir = corpusDir(target);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .sort()
    .map((name) => ({ name, bytes: readFileSync(join(dir, name)) }));
}

/** Crash reproducers of a target: `<target>-<hash>.bin`. */
export function loadCrashes(target: string, dir = CRASH_DIR): Array<{ name: string; bytes: Uint8Array }> {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.startsWith(`${target}-`) && name.endsWith(".bin"))
    .map((name) => ({ name, bytes: readFileSync(join(dir, name)) }));
}

/**
 * Coverage-guided mutation fuzzing of one target: seeds and the committed corpus first, then
 * mutants of random corpus entries; a mutant that executes a block no earlier input did joins
 * the corpus. A throw from the target is a crash: its input is written as a reproducer.
 */
export function fuzz(target: FuzzTarget, options: FuzzOptions): FuzzReport {
  const seed = options.seed ?? Date.now() & 0x7fff_ffff;
  const rng = new Rng(seed);
  const coverage = new BlockCoverage(target.coverage);
  const seen = new Set<string>();
  const queue: Uint8Array[] = [];
  const crashes: string[] = [];
  const crashKinds = new Set<string>();
  let execs = 0;
  let added = 0;
  const started = Date.now();

  const exec = (input: Uint8Array): boolean => {
    execs++;
    try {
      target.run(input);
    } catch (err) {
      coverage.take();
      const kind = `${(err as Error)?.name}: ${(err as Error)?.message}`.split("\n")[0] as string;
      if (!crashKinds.has(kind)) {
        crashKinds.add(kind);
        crashes.push(writeCrash(target.name, input, err, options.crashDir ?? CRASH_DIR));
      }
      return false;
    }
    let fresh = false;
    for (const block of coverage.take()) {
      if (seen.has(block)) continue;
      seen.add(block);
      fresh = true;
    }
    return fresh;
  };

  /** Runs a batch with one coverage read; true if it reached a block not seen yet (crashes are handled one by one). */
  const execBatch = (batch: Uint8Array[]): boolean => {
    for (const input of batch) {
      execs++;
      try {
        target.run(input);
      } catch {
        coverage.take();
        return true;
      }
    }
    for (const block of coverage.take()) if (!seen.has(block)) return true;
    return false;
  };

  try {
    coverage.take(); // drop what ran before the first input
    for (const input of [...target.seeds(), ...loadCorpus(target.name).map((c) => c.bytes)]) {
      exec(input);
      queue.push(input);
    }
    const known = new Set(loadCorpus(target.name).map((c) => c.name));
    const keep = (mutant: Uint8Array): void => {
      queue.push(mutant);
      const name = inputName(mutant);
      if (options.save && !known.has(name)) {
        mkdirSync(corpusDir(target.name), { recursive: true });
        writeFileSync(join(corpusDir(target.name), name), mutant);
        known.add(name);
        added++;
      }
    };
    while (Date.now() - started < options.durationMs && !(options.stopOnCrash && crashes.length > 0)) {
      // Coverage is read once per batch (reading it costs far more than one execution); only
      // a batch that reached something new is replayed input by input to find which did.
      const batch: Uint8Array[] = [];
      for (let i = 0; i < BATCH; i++) {
        const base = queue[rng.below(queue.length)] ?? new Uint8Array(0);
        batch.push(mutate(base, rng, queue[rng.below(queue.length)], MAX_INPUT));
      }
      if (!execBatch(batch)) continue;
      for (const mutant of batch) if (exec(mutant)) keep(mutant);
    }
  } finally {
    coverage.close();
  }
  return {
    target: target.name,
    seed,
    execs,
    durationMs: Date.now() - started,
    blocks: seen.size,
    corpus: queue.length,
    added,
    crashes,
  };
}

function writeCrash(target: string, input: Uint8Array, err: unknown, dir: string): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${target}-${inputName(input)}.bin`);
  writeFileSync(file, input);
  writeFileSync(`${file}.txt`, `${(err as Error)?.stack ?? String(err)}\n`);
  return file;
}
