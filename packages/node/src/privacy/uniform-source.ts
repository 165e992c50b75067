/**
 * Uniform integers for the noise samplers: exact (rejection sampling, no modulo bias, no
 * floating point), from a CSPRNG in production or from a seeded ChaCha20 keystream in tests,
 * so a statistical test replays exactly from its seed.
 */
import { createCipheriv, createHash, randomBytes } from "node:crypto";

/** Largest bound `below` takes: integers stay exact in a double up to 2^53. */
export const MAX_UNIFORM_BOUND = Number.MAX_SAFE_INTEGER;
const WORDS_PER_REFILL = 16_384;

export interface UniformSource {
  /** An integer uniform in [0, n), for an integer 1 ≤ n ≤ 2^53 − 1. */
  below(n: number): number;
}

/** From the operating system's CSPRNG (what releases use). */
export function cryptoUniform(): UniformSource {
  return wordSource(() => randomBytes(WORDS_PER_REFILL * 4));
}

/** From a ChaCha20 keystream keyed by SHA-256 of `seed`: the same seed, the same integers. */
export function seededUniform(seed: string): UniformSource {
  const key = createHash("sha256").update(seed).digest();
  const cipher = createCipheriv("chacha20", key, Buffer.alloc(16));
  const zeros = Buffer.alloc(WORDS_PER_REFILL * 4);
  return wordSource(() => cipher.update(zeros));
}

function wordSource(refill: () => Buffer): UniformSource {
  let words: Uint32Array = new Uint32Array(0);
  let at = 0;
  const next = (): number => {
    if (at === words.length) {
      // A copy: the refill's buffer may sit at an offset a Uint32Array cannot start at.
      words = new Uint32Array(new Uint8Array(refill()).buffer);
      at = 0;
    }
    return words[at++] as number;
  };
  return {
    below(n: number): number {
      if (!Number.isSafeInteger(n) || n < 1 || n > MAX_UNIFORM_BOUND) {
        throw new RangeError(`below(${n}): n must be an integer in [1, 2^53 − 1]`);
      }
      if (n <= 2 ** 32) {
        // Accept words under the largest multiple of n that fits in 32 bits.
        const limit = Math.floor(2 ** 32 / n) * n;
        for (;;) {
          const w = next();
          if (w < limit) return w % n;
        }
      }
      const limit = Math.floor(2 ** 53 / n) * n;
      for (;;) {
        const w = (next() & 0x1fffff) * 2 ** 32 + next();
        if (w < limit) return w % n;
      }
    },
  };
}
