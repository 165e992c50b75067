/**
 * The usage statement of a settlement: "these m parts, each in [0, 2^bits), sum to the usage
 * committed in C_T", bound to a context (whose usage, which epoch, which node). The verifier
 * learns m, bits and that the statement holds, not the parts or the total.
 *
 * Wire layout: u8 version (1) ‖ u8 scheme (1 = Bulletproofs on ristretto255) ‖ u8 bits ‖
 * u8 m ‖ C₁ … C_m (32 bytes each) ‖ range proof (see range-proof.ts) ‖ sum proof (64 bytes).
 * The parts are padded with zeros to a power of two.
 */
import { LedgerProofError } from "./errors.js";
import { ELEMENT_BYTES, Fn, randomScalar } from "./group.js";
import { commit } from "./pedersen.js";
import {
  checkRangeParameters,
  MAX_AGGREGATED,
  proveRange,
  rangeProofBytes,
  verifyRange,
} from "./range-proof.js";
import { proveSum, SUM_PROOF_BYTES, verifySum } from "./sum-proof.js";
import { Transcript } from "./transcript.js";

export const USAGE_PROOF_VERSION = 1;
/** The scheme byte of Bulletproofs range proofs + a Schnorr sum proof on ristretto255. */
export const SCHEME_BULLETPROOFS_RISTRETTO255 = 1;
const HEADER_BYTES = 4;
const TRANSCRIPT_DOMAIN = "omnigate/v1/usage";

/** What the prover keeps: the total and the blinding that open C_T (never sent to a verifier). */
export interface UsageOpening {
  readonly total: bigint;
  readonly blinding: bigint;
}

/** A committed usage total with its proof. */
export interface UsageCommitment {
  /** C_T, the 32-byte commitment to the total. */
  readonly commitment: Uint8Array;
  /** The encoded proof (parts, range proof, sum proof). */
  readonly proof: Uint8Array;
  /** The opening of C_T, for the prover's own records or a later audit. */
  readonly opening: UsageOpening;
}

/** What a verifier learns from a valid proof. */
export interface VerifiedUsage {
  /** Parts in the proof (after padding to a power of two). */
  readonly parts: number;
  /** Each part is below 2^bits. */
  readonly bits: number;
}

/** Makes usage proofs; a faster backend (native, wasm) can implement it later. */
export interface ZkProver {
  /** Names the proof system, as records carry it. */
  readonly scheme: string;
  proveUsage(context: Uint8Array, parts: readonly bigint[], bits?: number): UsageCommitment;
}

/** Checks usage proofs; throws LedgerProofError with the failing check's reason. */
export interface ZkVerifier {
  readonly scheme: string;
  verifyUsage(context: Uint8Array, commitment: Uint8Array, proof: Uint8Array): VerifiedUsage;
}

/** Proves that `parts` (each in [0, 2^bits)) sum to a fresh commitment to their total. */
export function proveUsage(context: Uint8Array, parts: readonly bigint[], bits = 32): UsageCommitment {
  if (parts.length === 0 || parts.length > MAX_AGGREGATED) {
    throw new RangeError(`a usage proof has 1 to ${MAX_AGGREGATED} parts, not ${parts.length}`);
  }
  const m = 2 ** Math.ceil(Math.log2(parts.length));
  const values = [...parts, ...new Array<bigint>(m - parts.length).fill(0n)];
  checkRangeParameters(bits, m);
  const blindings = values.map(() => randomScalar());
  const total = values.reduce((a, b) => a + b, 0n);
  const totalBlinding = randomScalar();
  const commitment = commit(total, totalBlinding).toBytes();
  const transcript = usageTranscript(context, bits, m, commitment);
  const range = proveRange(transcript, values, blindings, bits);
  const delta = Fn.sub(
    blindings.reduce((a, b) => Fn.add(a, b), 0n),
    totalBlinding,
  );
  const sum = proveSum(transcript, range.commitments, commitment, delta);
  const proof = new Uint8Array(HEADER_BYTES + m * ELEMENT_BYTES + range.proof.length + sum.length);
  proof.set([USAGE_PROOF_VERSION, SCHEME_BULLETPROOFS_RISTRETTO255, bits, m]);
  range.commitments.forEach((c, j) => {
    proof.set(c, HEADER_BYTES + j * ELEMENT_BYTES);
  });
  proof.set(range.proof, HEADER_BYTES + m * ELEMENT_BYTES);
  proof.set(sum, HEADER_BYTES + m * ELEMENT_BYTES + range.proof.length);
  return { commitment, proof, opening: { total, blinding: totalBlinding } };
}

/**
 * Verifies a usage proof for `commitment` in `context`. Lengths and parameters are checked
 * before anything is decoded or allocated by size.
 */
export function verifyUsage(context: Uint8Array, commitment: Uint8Array, proof: Uint8Array): VerifiedUsage {
  if (commitment.length !== ELEMENT_BYTES) {
    throw new LedgerProofError(
      "malformed",
      `a usage commitment is ${ELEMENT_BYTES} bytes, not ${commitment.length}`,
    );
  }
  if (proof.length < HEADER_BYTES)
    throw new LedgerProofError("malformed", "a usage proof is shorter than its header");
  const [version, scheme, bits, m] = proof as unknown as [number, number, number, number];
  if (version !== USAGE_PROOF_VERSION) {
    throw new LedgerProofError("malformed", `usage proof version ${version} is not supported (1 is)`);
  }
  if (scheme !== SCHEME_BULLETPROOFS_RISTRETTO255) {
    throw new LedgerProofError("malformed", `usage proof scheme ${scheme} is not supported`);
  }
  checkRangeParameters(bits, m);
  const rangeBytes = rangeProofBytes(bits, m);
  const expected = HEADER_BYTES + m * ELEMENT_BYTES + rangeBytes + SUM_PROOF_BYTES;
  if (proof.length !== expected) {
    throw new LedgerProofError(
      "malformed",
      `a usage proof of ${m} × ${bits}-bit parts is ${expected} bytes, not ${proof.length}`,
    );
  }
  const parts = Array.from({ length: m }, (_, j) =>
    proof.subarray(HEADER_BYTES + j * ELEMENT_BYTES, HEADER_BYTES + (j + 1) * ELEMENT_BYTES),
  );
  const rangeAt = HEADER_BYTES + m * ELEMENT_BYTES;
  const transcript = usageTranscript(context, bits, m, commitment);
  verifyRange(transcript, parts, bits, proof.subarray(rangeAt, rangeAt + rangeBytes));
  verifySum(transcript, parts, commitment, proof.subarray(rangeAt + rangeBytes));
  return { parts: m, bits };
}

/** The transcript both sides start from: the context and the statement's shape come first. */
function usageTranscript(context: Uint8Array, bits: number, m: number, commitment: Uint8Array): Transcript {
  const transcript = new Transcript(TRANSCRIPT_DOMAIN);
  transcript.appendMessage("context", context);
  transcript.appendU64("bits", bits);
  transcript.appendU64("parts", m);
  transcript.appendEncoded("C_total", commitment);
  return transcript;
}

/** The built-in backend: Bulletproofs and a Schnorr sum proof in TypeScript on `@noble/curves`. */
export const bulletproofsRistretto255: ZkProver & ZkVerifier = {
  scheme: "bulletproofs-ristretto255-v1",
  proveUsage,
  verifyUsage,
};
