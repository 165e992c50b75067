/** The sum proof and the usage statement built from it and the range proof. */
import { describe, expect, it } from "vitest";
import { LedgerProofError } from "../src/errors.js";
import { Fn, randomScalar } from "../src/group.js";
import { commit } from "../src/pedersen.js";
import { proveSum, verifySum } from "../src/sum-proof.js";
import { Transcript } from "../src/transcript.js";
import { bulletproofsRistretto255, proveUsage, verifyUsage } from "../src/usage-proof.js";
import { refusal } from "./support/refusal.js";

const context = new TextEncoder().encode("tenant 7, app 1024, epoch 0, node n");

describe("sum proof", () => {
  const values = [3n, 4n, 10n];
  const blindings = values.map(() => randomScalar());
  const parts = values.map((v, i) => commit(v, blindings[i] as bigint).toBytes());
  const totalBlinding = randomScalar();
  const delta = Fn.sub(
    blindings.reduce((a, b) => Fn.add(a, b), 0n),
    totalBlinding,
  );

  it("verifies when the parts sum to the total", () => {
    const total = commit(17n, totalBlinding).toBytes();
    const proof = proveSum(new Transcript("t"), parts, total, delta);
    expect(() => verifySum(new Transcript("t"), parts, total, proof)).not.toThrow();
  });

  it("fails when they do not (total one more), even with the right blinding difference", () => {
    const total = commit(18n, totalBlinding).toBytes();
    const proof = proveSum(new Transcript("t"), parts, total, delta);
    expect(refusal(() => verifySum(new Transcript("t"), parts, total, proof)).reason).toBe(
      "sum_proof_failed",
    );
  });

  it("fails for a dropped part, another transcript, or a flipped byte", () => {
    const total = commit(17n, totalBlinding).toBytes();
    const proof = proveSum(new Transcript("t"), parts, total, delta);
    expect(refusal(() => verifySum(new Transcript("t"), parts.slice(1), total, proof)).reason).toBe(
      "sum_proof_failed",
    );
    expect(refusal(() => verifySum(new Transcript("u"), parts, total, proof)).reason).toBe(
      "sum_proof_failed",
    );
    for (let i = 0; i < proof.length; i++) {
      const tampered = proof.slice();
      tampered[i] = (tampered[i] as number) ^ 0x04;
      expect(["sum_proof_failed", "bad_point", "bad_scalar"]).toContain(
        refusal(() => verifySum(new Transcript("t"), parts, total, tampered)).reason,
      );
    }
    expect(refusal(() => verifySum(new Transcript("t"), parts, total, proof.subarray(1))).reason).toBe(
      "malformed",
    );
  });
});

describe("usage proofs", () => {
  it("proves parts summing to a committed total and reveals only the statement's shape", () => {
    const usage = proveUsage(context, [120n, 0n, 4_000_000_000n, 77n, 1n]);
    expect(usage.opening.total).toBe(4_000_000_198n);
    expect(commit(usage.opening.total, usage.opening.blinding).toBytes()).toEqual(usage.commitment);
    // Five parts are padded to eight.
    expect(verifyUsage(context, usage.commitment, usage.proof)).toEqual({ parts: 8, bits: 32 });
    expect(bulletproofsRistretto255.verifyUsage(context, usage.commitment, usage.proof).parts).toBe(8);
  });

  it("refuses the proof in another context, against another total, or with a part over 2^32", () => {
    const usage = proveUsage(context, [5n, 6n]);
    const elsewhere = new TextEncoder().encode("tenant 7, app 1024, epoch 1, node n");
    expect(refusal(() => verifyUsage(elsewhere, usage.commitment, usage.proof)).reason).toBe(
      "range_proof_failed",
    );
    const other = proveUsage(context, [5n, 6n]);
    expect(refusal(() => verifyUsage(context, other.commitment, usage.proof)).reason).toBe(
      "range_proof_failed",
    );
    expect(() => proveUsage(context, [2n ** 32n])).toThrow(RangeError);
    expect(() => proveUsage(context, [])).toThrow(RangeError);
    expect(() => proveUsage(context, new Array(65).fill(1n))).toThrow(RangeError);
  });

  it("refuses a bad header, a wrong length and every flipped byte", () => {
    const usage = proveUsage(context, [9n], 8);
    const header = (i: number, v: number) => {
      const p = usage.proof.slice();
      p[i] = v;
      return p;
    };
    for (const bad of [header(0, 2), header(1, 9), header(2, 12), header(3, 3), header(3, 0)]) {
      expect(refusal(() => verifyUsage(context, usage.commitment, bad)).reason).toBe("malformed");
    }
    expect(refusal(() => verifyUsage(context, usage.commitment, usage.proof.subarray(0, 100))).reason).toBe(
      "malformed",
    );
    expect(refusal(() => verifyUsage(context, usage.commitment.subarray(1), usage.proof)).reason).toBe(
      "malformed",
    );
    for (let i = 4; i < usage.proof.length; i++) {
      const tampered = usage.proof.slice();
      tampered[i] = (tampered[i] as number) ^ (0x80 >> (i % 8));
      expect(refusal(() => verifyUsage(context, usage.commitment, tampered))).toBeInstanceOf(
        LedgerProofError,
      );
    }
  });
});
