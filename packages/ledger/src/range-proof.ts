/**
 * Aggregated Bulletproofs range proofs (Bünz et al. 2018, §4.3; dalek's single-check
 * verification): m Pedersen commitments Vⱼ = vⱼ·B + γⱼ·B̃, each vⱼ in [0, 2^n), in one proof
 * of 2·log₂(n·m) + 9 elements (608 bytes for one 32-bit value, 864 for sixteen).
 *
 * Wire layout (all 32-byte elements): A ‖ S ‖ T₁ ‖ T₂ ‖ t̂ ‖ τₓ ‖ μ ‖ (Lᵢ ‖ Rᵢ) × log₂(n·m) ‖ a ‖ b.
 */
import { LedgerProofError } from "./errors.js";
import { bulletproofGenerators, pedersenGenerators } from "./generators.js";
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
import { type InnerProductProof, proveInnerProduct, verificationScalars } from "./inner-product.js";
import { commit } from "./pedersen.js";
import { innerProduct, pow, powers, sumOfPowers } from "./scalars.js";
import type { Transcript } from "./transcript.js";

/** The value widths a range proof supports. */
export const RANGE_BITS: readonly number[] = [8, 16, 32, 64];
/** At most this many values in one aggregated proof (a power of two). */
export const MAX_AGGREGATED = 64;

/** Bytes of a proof for `count` values of `bits` bits. */
export function rangeProofBytes(bits: number, count: number): number {
  return ELEMENT_BYTES * 9 + 2 * ELEMENT_BYTES * Math.log2(bits * count);
}

/** Checks the parameters every prover and verifier call shares. */
export function checkRangeParameters(bits: number, count: number): void {
  if (!RANGE_BITS.includes(bits)) {
    throw new LedgerProofError("malformed", `range proofs take ${RANGE_BITS.join("/")} bits, not ${bits}`);
  }
  if (!Number.isInteger(count) || count < 1 || count > MAX_AGGREGATED || (count & (count - 1)) !== 0) {
    throw new LedgerProofError(
      "malformed",
      `an aggregated range proof covers a power of two of values up to ${MAX_AGGREGATED}, not ${count}`,
    );
  }
}

/** Binds the statement: the protocol, its parameters and every commitment, before any challenge. */
function appendStatement(transcript: Transcript, bits: number, commitments: readonly Uint8Array[]): void {
  transcript.appendMessage("protocol", new TextEncoder().encode("bulletproofs-range-v1"));
  transcript.appendU64("n", bits);
  transcript.appendU64("m", commitments.length);
  for (const v of commitments) transcript.appendEncoded("V", v);
}

/**
 * Proves that each `values[j]` lies in [0, 2^bits), committed with `blindings[j]`. The
 * transcript should already carry the caller's context (what the proof is about), which the
 * verifier must append the same way. Returns the proof and the commitments it is about.
 */
export function proveRange(
  transcript: Transcript,
  values: readonly bigint[],
  blindings: readonly bigint[],
  bits: number,
): { proof: Uint8Array; commitments: Uint8Array[] } {
  for (const v of values) {
    if (v < 0n || v >= 1n << BigInt(bits)) throw new RangeError(`proveRange: ${v} is not in [0, 2^${bits})`);
  }
  return proveRangeUnchecked(transcript, values, blindings, bits);
}

/**
 * proveRange without the range check on the values: what a cheating prover runs (only the
 * low `bits` bits of each value go into the proof, the commitments hold the whole value).
 * For the soundness tests; not exported from the package.
 */
export function proveRangeUnchecked(
  transcript: Transcript,
  values: readonly bigint[],
  blindings: readonly bigint[],
  bits: number,
): { proof: Uint8Array; commitments: Uint8Array[] } {
  const m = values.length;
  checkRangeParameters(bits, m);
  if (blindings.length !== m) throw new RangeError("proveRange: one blinding per value");
  const nm = bits * m;
  const { B, blinding: Bt } = pedersenGenerators();
  const { G, H } = bulletproofGenerators(nm);
  const commitments = values.map((v, j) => commit(v, blindings[j] as bigint).toBytes());
  appendStatement(transcript, bits, commitments);

  // a_L: the bits of every value, a_R = a_L − 1.
  const aL: bigint[] = new Array(nm);
  for (let j = 0; j < m; j++) {
    const v = Fn.create(values[j] as bigint);
    for (let i = 0; i < bits; i++) aL[j * bits + i] = (v >> BigInt(i)) & 1n;
  }
  const aR = aL.map((x) => Fn.sub(x, 1n));
  const alpha = randomScalar();
  let A = mulSecret(Bt, alpha);
  for (let i = 0; i < nm; i++) A = aL[i] === 1n ? A.add(G[i] as Point) : A.subtract(H[i] as Point);
  const sL = Array.from({ length: nm }, randomScalar);
  const sR = Array.from({ length: nm }, randomScalar);
  const rho = randomScalar();
  const S = mulSecret(Bt, rho).add(multiScalarMul([...G, ...H], [...sL, ...sR]));
  const aBytes = A.toBytes();
  const sBytes = S.toBytes();
  transcript.appendEncoded("A", aBytes);
  transcript.appendEncoded("S", sBytes);
  const y = transcript.challengeScalar("y");
  const z = transcript.challengeScalar("z");

  // l(X) = l0 + l1·X, r(X) = r0 + r1·X; t(X) = ⟨l(X), r(X)⟩ = t0 + t1·X + t2·X².
  const yPow = powers(y, nm);
  const twoPow = powers(2n, bits);
  const zz = Fn.sqr(z);
  const zPow = powers(z, m);
  const l0 = aL.map((x) => Fn.sub(x, z));
  const r0 = aR.map((x, i) =>
    Fn.add(
      Fn.mul(yPow[i] as bigint, Fn.add(x, z)),
      Fn.mul(Fn.mul(zz, zPow[Math.floor(i / bits)] as bigint), twoPow[i % bits] as bigint),
    ),
  );
  const r1 = sR.map((x, i) => Fn.mul(yPow[i] as bigint, x));
  const t1 = Fn.add(innerProduct(l0, r1), innerProduct(sL, r0));
  const t2 = innerProduct(sL, r1);
  const tau1 = randomScalar();
  const tau2 = randomScalar();
  const T1 = mulSecret(B, t1).add(mulSecret(Bt, tau1)).toBytes();
  const T2 = mulSecret(B, t2).add(mulSecret(Bt, tau2)).toBytes();
  transcript.appendEncoded("T1", T1);
  transcript.appendEncoded("T2", T2);
  const x = transcript.challengeScalar("x");

  let taux = Fn.add(Fn.mul(tau2, Fn.sqr(x)), Fn.mul(tau1, x));
  for (let j = 0; j < m; j++) {
    taux = Fn.add(taux, Fn.mul(Fn.mul(zz, zPow[j] as bigint), blindings[j] as bigint));
  }
  const mu = Fn.add(alpha, Fn.mul(rho, x));
  const l = l0.map((v, i) => Fn.add(v, Fn.mul(sL[i] as bigint, x)));
  const r = r0.map((v, i) => Fn.add(v, Fn.mul(r1[i] as bigint, x)));
  const tHat = innerProduct(l, r);
  transcript.appendScalar("t_x", tHat);
  transcript.appendScalar("t_x_blinding", taux);
  transcript.appendScalar("e_blinding", mu);
  const w = transcript.challengeScalar("w");
  const Q = B.multiply(w);
  const yInvPow = powers(Fn.inv(y), nm);
  const ipp = proveInnerProduct(transcript, Q, yInvPow, G, H, l, r);
  return { proof: encodeRangeProof(aBytes, sBytes, T1, T2, tHat, taux, mu, ipp), commitments };
}

/**
 * Verifies a range proof about `commitments` (encoded points, in order). Throws
 * LedgerProofError: "malformed" / "bad_point" / "bad_scalar" for bytes that are not a proof,
 * "range_proof_failed" when the proof does not hold.
 */
export function verifyRange(
  transcript: Transcript,
  commitments: readonly Uint8Array[],
  bits: number,
  proof: Uint8Array,
): void {
  const m = commitments.length;
  checkRangeParameters(bits, m);
  const nm = bits * m;
  const parsed = decodeRangeProof(proof, nm);
  const V = commitments.map((c, j) => pointFromBytes(c, `commitment ${j}`));
  appendStatement(transcript, bits, commitments);
  transcript.appendEncoded("A", parsed.A);
  transcript.appendEncoded("S", parsed.S);
  const y = transcript.challengeScalar("y");
  const z = transcript.challengeScalar("z");
  transcript.appendEncoded("T1", parsed.T1);
  transcript.appendEncoded("T2", parsed.T2);
  const x = transcript.challengeScalar("x");
  transcript.appendScalar("t_x", parsed.tHat);
  transcript.appendScalar("t_x_blinding", parsed.taux);
  transcript.appendScalar("e_blinding", parsed.mu);
  const w = transcript.challengeScalar("w");
  const { uSquared, uInverseSquared, s } = verificationScalars(parsed.ipp, nm, transcript);

  // One multiscalar multiplication checks both the polynomial identity (weighted by a random
  // c) and the inner-product argument; it is the identity exactly when both hold.
  const c = randomScalar();
  const { a, b } = parsed.ipp;
  const zz = Fn.sqr(z);
  const zPow = powers(z, m);
  const twoPow = powers(2n, bits);
  const yInvPow = powers(Fn.inv(y), nm);
  const minusZ = Fn.neg(z);
  const gScalars = s.map((si) => Fn.sub(minusZ, Fn.mul(a, si)));
  const hScalars = yInvPow.map((yInv, i) => {
    const zAnd2 = Fn.mul(Fn.mul(zz, zPow[Math.floor(i / bits)] as bigint), twoPow[i % bits] as bigint);
    return Fn.add(z, Fn.mul(yInv, Fn.sub(zAnd2, Fn.mul(b, s[nm - 1 - i] as bigint))));
  });
  const delta = Fn.sub(
    Fn.mul(Fn.sub(z, zz), sumOfPowers(y, nm)),
    Fn.mul(Fn.mul(pow(z, 3), sumOfPowers(2n, bits)), sumOfPowers(z, m)),
  );
  const basepointScalar = Fn.add(
    Fn.mul(w, Fn.sub(parsed.tHat, Fn.mul(a, b))),
    Fn.mul(c, Fn.sub(delta, parsed.tHat)),
  );
  const { B, blinding: Bt } = pedersenGenerators();
  const { G, H } = bulletproofGenerators(nm);
  const points: Point[] = [
    pointFromBytes(parsed.A, "A"),
    pointFromBytes(parsed.S, "S"),
    pointFromBytes(parsed.T1, "T1"),
    pointFromBytes(parsed.T2, "T2"),
    ...parsed.ipp.L.map((e, i) => pointFromBytes(e, `L${i}`)),
    ...parsed.ipp.R.map((e, i) => pointFromBytes(e, `R${i}`)),
    Bt,
    B,
    ...G,
    ...H,
    ...V,
  ];
  const scalars: bigint[] = [
    1n,
    x,
    Fn.mul(c, x),
    Fn.mul(c, Fn.sqr(x)),
    ...uSquared,
    ...uInverseSquared,
    Fn.neg(Fn.add(parsed.mu, Fn.mul(c, parsed.taux))),
    basepointScalar,
    ...gScalars,
    ...hScalars,
    ...zPow.map((zj) => Fn.mul(Fn.mul(c, zz), zj)),
  ];
  if (!multiScalarMul(points, scalars).equals(IDENTITY)) {
    throw new LedgerProofError(
      "range_proof_failed",
      `the range proof over ${m} × ${bits}-bit values does not hold`,
    );
  }
}

interface DecodedRangeProof {
  A: Uint8Array;
  S: Uint8Array;
  T1: Uint8Array;
  T2: Uint8Array;
  tHat: bigint;
  taux: bigint;
  mu: bigint;
  ipp: InnerProductProof;
}

function encodeRangeProof(
  A: Uint8Array,
  S: Uint8Array,
  T1: Uint8Array,
  T2: Uint8Array,
  tHat: bigint,
  taux: bigint,
  mu: bigint,
  ipp: InnerProductProof,
): Uint8Array {
  const parts = [A, S, T1, T2, scalarToBytes(tHat), scalarToBytes(taux), scalarToBytes(mu)];
  ipp.L.forEach((l, i) => {
    parts.push(l, ipp.R[i] as Uint8Array);
  });
  parts.push(scalarToBytes(ipp.a), scalarToBytes(ipp.b));
  const out = new Uint8Array(parts.length * ELEMENT_BYTES);
  parts.forEach((p, i) => {
    out.set(p, i * ELEMENT_BYTES);
  });
  return out;
}

/** Splits a proof for vectors of length `nm` into its elements; the length is checked first. */
function decodeRangeProof(proof: Uint8Array, nm: number): DecodedRangeProof {
  const rounds = Math.log2(nm);
  const expected = ELEMENT_BYTES * 9 + 2 * ELEMENT_BYTES * rounds;
  if (proof.length !== expected) {
    throw new LedgerProofError(
      "malformed",
      `a range proof over ${nm} bits is ${expected} bytes, not ${proof.length}`,
    );
  }
  const at = (i: number) => proof.subarray(i * ELEMENT_BYTES, (i + 1) * ELEMENT_BYTES);
  const L: Uint8Array[] = [];
  const R: Uint8Array[] = [];
  for (let i = 0; i < rounds; i++) {
    L.push(at(7 + 2 * i));
    R.push(at(8 + 2 * i));
  }
  const last = 7 + 2 * rounds;
  return {
    A: at(0),
    S: at(1),
    T1: at(2),
    T2: at(3),
    tHat: scalarFromBytes(at(4), "t_x"),
    taux: scalarFromBytes(at(5), "t_x_blinding"),
    mu: scalarFromBytes(at(6), "e_blinding"),
    ipp: { L, R, a: scalarFromBytes(at(last), "a"), b: scalarFromBytes(at(last + 1), "b") },
  };
}
