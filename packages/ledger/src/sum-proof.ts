/**
 * Proof that committed parts sum to a committed total: with Cⱼ = vⱼ·B + γⱼ·B̃ and
 * C_T = v_T·B + γ_T·B̃, if Σvⱼ = v_T then D = ΣCⱼ − C_T = δ·B̃ with δ = Σγⱼ − γ_T. A Schnorr
 * proof of knowledge of δ (log of D to the base B̃) shows it; if the values did not sum, D
 * would have a B component and no one could know its log to B̃ alone. Wire: R ‖ s (64 bytes).
 * Sound only together with range proofs on the parts, so that no part can be "negative".
 */
import { LedgerProofError } from "./errors.js";
import { pedersenGenerators } from "./generators.js";
import {
  ELEMENT_BYTES,
  Fn,
  IDENTITY,
  mulSecret,
  multiScalarMul,
  type Point,
  pointFromBytes,
  randomScalar,
  scalarFromBytes,
  scalarToBytes,
} from "./group.js";
import type { Transcript } from "./transcript.js";

export const SUM_PROOF_BYTES = 2 * ELEMENT_BYTES;

function appendStatement(transcript: Transcript, parts: readonly Uint8Array[], total: Uint8Array): void {
  transcript.appendMessage("protocol", new TextEncoder().encode("pedersen-sum-v1"));
  transcript.appendU64("parts", parts.length);
  for (const c of parts) transcript.appendEncoded("C", c);
  transcript.appendEncoded("C_total", total);
}

/** Proves that `parts` sum to `total`, knowing δ = Σ part blindings − total blinding. */
export function proveSum(
  transcript: Transcript,
  parts: readonly Uint8Array[],
  total: Uint8Array,
  delta: bigint,
): Uint8Array {
  appendStatement(transcript, parts, total);
  const { blinding: Bt } = pedersenGenerators();
  const k = randomScalar();
  const R = mulSecret(Bt, k).toBytes();
  transcript.appendEncoded("R", R);
  const c = transcript.challengeScalar("c");
  const s = Fn.add(k, Fn.mul(c, delta));
  const out = new Uint8Array(SUM_PROOF_BYTES);
  out.set(R, 0);
  out.set(scalarToBytes(s), ELEMENT_BYTES);
  return out;
}

/** Verifies a sum proof; throws LedgerProofError ("sum_proof_failed" when it does not hold). */
export function verifySum(
  transcript: Transcript,
  parts: readonly Uint8Array[],
  total: Uint8Array,
  proof: Uint8Array,
): void {
  if (proof.length !== SUM_PROOF_BYTES) {
    throw new LedgerProofError("malformed", `a sum proof is ${SUM_PROOF_BYTES} bytes, not ${proof.length}`);
  }
  const R = proof.subarray(0, ELEMENT_BYTES);
  const s = scalarFromBytes(proof.subarray(ELEMENT_BYTES), "sum proof s");
  const partPoints = parts.map((c, j) => pointFromBytes(c, `part commitment ${j}`));
  const totalPoint = pointFromBytes(total, "total commitment");
  const rPoint = pointFromBytes(R, "sum proof R");
  appendStatement(transcript, parts, total);
  transcript.appendEncoded("R", R);
  const c = transcript.challengeScalar("c");
  // s·B̃ = R + c·(ΣCⱼ − C_T)  ⇔  s·B̃ − c·ΣCⱼ + c·C_T − R = 0
  const { blinding: Bt } = pedersenGenerators();
  const minusC = Fn.neg(c);
  const points: Point[] = [Bt, ...partPoints, totalPoint, rPoint];
  const scalars = [s, ...partPoints.map(() => minusC), c, Fn.neg(1n)];
  if (!multiScalarMul(points, scalars).equals(IDENTITY)) {
    throw new LedgerProofError("sum_proof_failed", "the part commitments do not sum to the total commitment");
  }
}
