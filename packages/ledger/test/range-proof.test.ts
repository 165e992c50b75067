/** Bulletproofs range proofs: completeness, and refusal of every kind of bad proof. */
import { describe, expect, it } from "vitest";
import { ORDER, randomScalar } from "../src/group.js";
import { commit } from "../src/pedersen.js";
import { proveRange, proveRangeUnchecked, rangeProofBytes, verifyRange } from "../src/range-proof.js";
import { Transcript } from "../src/transcript.js";
import { refusal } from "./support/refusal.js";

const fresh = (label = "range-test") => new Transcript(label);

function prove(values: bigint[], bits: number) {
  const blindings = values.map(() => randomScalar());
  return { blindings, ...proveRange(fresh(), values, blindings, bits) };
}

describe("range proofs: valid proofs verify", () => {
  it.each([
    { bits: 8, values: [0n] },
    { bits: 8, values: [255n] },
    { bits: 16, values: [40_000n, 1n] },
    { bits: 32, values: [0xffff_ffffn] },
    { bits: 32, values: [1n, 2n, 3n, 0xdead_beefn] },
    { bits: 64, values: [2n ** 64n - 1n, 0n] },
  ])("$values.length × $bits-bit values $values", ({ bits, values }) => {
    const { proof, commitments } = prove(values, bits);
    expect(proof.length).toBe(rangeProofBytes(bits, values.length));
    expect(() => verifyRange(fresh(), commitments, bits, proof)).not.toThrow();
  });

  it("aggregates 16 × 32-bit values into 864 bytes", () => {
    const values = Array.from({ length: 16 }, (_, j) => BigInt(j) * 123_456_789n);
    const { proof, commitments } = prove(values, 32);
    expect(proof.length).toBe(864);
    expect(() => verifyRange(fresh(), commitments, 32, proof)).not.toThrow();
  });

  it("refuses values out of range before proving", () => {
    expect(() => prove([256n], 8)).toThrow(RangeError);
    expect(() => prove([-1n], 8)).toThrow(RangeError);
  });
});

describe("range proofs: soundness", () => {
  it.each([
    { what: "2^bits", value: 256n },
    { what: "2^bits + 5", value: 261n },
    { what: "a negative value (ℓ − 2)", value: -2n },
    { what: "ℓ − 1", value: ORDER - 1n },
  ])("a cheating prover cannot prove $what in 8 bits", ({ value }) => {
    const blindings = [randomScalar(), randomScalar()];
    const { proof, commitments } = proveRangeUnchecked(fresh(), [value, 3n], blindings, 8);
    expect(refusal(() => verifyRange(fresh(), commitments, 8, proof)).reason).toBe("range_proof_failed");
  });

  it("fails against other commitments (another value, another blinding, swapped order)", () => {
    const { proof, commitments, blindings } = prove([5n, 9n], 8);
    const otherValue = [commit(6n, blindings[0] as bigint).toBytes(), commitments[1] as Uint8Array];
    const otherBlinding = [commit(5n, randomScalar()).toBytes(), commitments[1] as Uint8Array];
    const swapped = [commitments[1] as Uint8Array, commitments[0] as Uint8Array];
    for (const wrong of [otherValue, otherBlinding, swapped]) {
      expect(refusal(() => verifyRange(fresh(), wrong, 8, proof)).reason).toBe("range_proof_failed");
    }
  });

  it("fails under another transcript context (no replay into another statement)", () => {
    const { proof, commitments } = prove([5n], 8);
    expect(refusal(() => verifyRange(fresh("other-context"), commitments, 8, proof)).reason).toBe(
      "range_proof_failed",
    );
  });

  it("fails when any single byte of the proof is flipped", () => {
    const { proof, commitments } = prove([77n], 8);
    const reasons = new Set<string>();
    for (let i = 0; i < proof.length; i++) {
      const tampered = proof.slice();
      tampered[i] = (tampered[i] as number) ^ (1 << (i % 8));
      reasons.add(refusal(() => verifyRange(fresh(), commitments, 8, tampered)).reason);
    }
    expect([...reasons].every((r) => ["range_proof_failed", "bad_point", "bad_scalar"].includes(r))).toBe(
      true,
    );
    expect(reasons.has("range_proof_failed")).toBe(true);
  });

  it("refuses wrong lengths, parameters and non-canonical scalars as malformed or bad_scalar", () => {
    const { proof, commitments } = prove([1n, 2n], 8);
    expect(refusal(() => verifyRange(fresh(), commitments, 8, proof.subarray(1))).reason).toBe("malformed");
    expect(refusal(() => verifyRange(fresh(), commitments, 16, proof)).reason).toBe("malformed");
    expect(refusal(() => verifyRange(fresh(), commitments, 7, proof)).reason).toBe("malformed");
    const three = [...commitments, commitments[0] as Uint8Array];
    expect(refusal(() => verifyRange(fresh(), three, 8, proof)).reason).toBe("malformed");
    // t̂ (element 4) replaced by ℓ + t̂: the same scalar, not canonically encoded.
    const nonCanonical = proof.slice();
    let t = 0n;
    for (let i = 31; i >= 0; i--) t = (t << 8n) | BigInt(proof[4 * 32 + i] as number);
    let big = t + ORDER;
    for (let i = 0; i < 32; i++, big >>= 8n) nonCanonical[4 * 32 + i] = Number(big & 0xffn);
    expect(refusal(() => verifyRange(fresh(), commitments, 8, nonCanonical)).reason).toBe("bad_scalar");
  });
});
