/**
 * The Bulletproofs inner-product argument (Bünz et al. 2018, §3; the layout of dalek's
 * `InnerProductProof`): a proof of log₂(n) pairs (L, R) and two scalars that the prover knows
 * vectors a, b with P = ⟨a, G⟩ + ⟨b, H'⟩ + ⟨a, b⟩·Q, where H'ᵢ = hFactorᵢ·Hᵢ. The verifier
 * does not rebuild P: `verificationScalars` gives the weights that fold the whole check into
 * the range proof's single multiscalar multiplication.
 */
import { Fn, multiScalarMul, type Point } from "./group.js";
import { innerProduct } from "./scalars.js";
import type { Transcript } from "./transcript.js";

/** L and R as their 32-byte encodings (what the transcript and the wire carry), a and b. */
export interface InnerProductProof {
  readonly L: readonly Uint8Array[];
  readonly R: readonly Uint8Array[];
  readonly a: bigint;
  readonly b: bigint;
}

/**
 * Proves ⟨a, b⟩ against G, H' = hFactors ∘ H and Q. All vectors have the same length, a power
 * of two. Appends to `transcript` as `verificationScalars` reads it.
 */
export function proveInnerProduct(
  transcript: Transcript,
  Q: Point,
  hFactors: readonly bigint[],
  G: readonly Point[],
  H: readonly Point[],
  a: readonly bigint[],
  b: readonly bigint[],
): InnerProductProof {
  let n = G.length;
  if (![H.length, a.length, b.length, hFactors.length].every((len) => len === n) || (n & (n - 1)) !== 0) {
    throw new RangeError("proveInnerProduct: vectors of one power-of-two length expected");
  }
  transcript.appendU64("ipp-n", n);
  let g = G.slice();
  let h = H.slice();
  let av = a.slice();
  let bv = b.slice();
  // The first round applies the H factors; later rounds work on generators already scaled.
  let factors: readonly bigint[] | undefined = hFactors;
  const L: Uint8Array[] = [];
  const R: Uint8Array[] = [];
  while (n > 1) {
    n >>= 1;
    const [aL, aR] = [av.slice(0, n), av.slice(n)];
    const [bL, bR] = [bv.slice(0, n), bv.slice(n)];
    const [gL, gR] = [g.slice(0, n), g.slice(n)];
    const [hL, hR] = [h.slice(0, n), h.slice(n)];
    const f = factors;
    const bRf = f ? bR.map((x, i) => Fn.mul(x, f[i] as bigint)) : bR;
    const bLf = f ? bL.map((x, i) => Fn.mul(x, f[n + i] as bigint)) : bL;
    const cL = innerProduct(aL, bR);
    const cR = innerProduct(aR, bL);
    const l = multiScalarMul([...gR, ...hL, Q], [...aL, ...bRf, cL]).toBytes();
    const r = multiScalarMul([...gL, ...hR, Q], [...aR, ...bLf, cR]).toBytes();
    L.push(l);
    R.push(r);
    transcript.appendEncoded("L", l);
    transcript.appendEncoded("R", r);
    const u = transcript.challengeScalar("u");
    const uInv = Fn.inv(u);
    av = aL.map((x, i) => Fn.add(Fn.mul(x, u), Fn.mul(aR[i] as bigint, uInv)));
    bv = bL.map((x, i) => Fn.add(Fn.mul(x, uInv), Fn.mul(bR[i] as bigint, u)));
    g = gL.map((p, i) => multiScalarMul([p, gR[i] as Point], [uInv, u]));
    h = hL.map((p, i) =>
      multiScalarMul(
        [p, hR[i] as Point],
        f ? [Fn.mul(u, f[i] as bigint), Fn.mul(uInv, f[n + i] as bigint)] : [u, uInv],
      ),
    );
    factors = undefined;
  }
  return { L, R, a: av[0] as bigint, b: bv[0] as bigint };
}

/** The verifier's weights: uᵢ², uᵢ⁻² for Lᵢ, Rᵢ, and s (for G; reversed, for H). */
export interface VerificationScalars {
  readonly uSquared: bigint[];
  readonly uInverseSquared: bigint[];
  readonly s: bigint[];
}

/** Replays the transcript of a proof over vectors of length `n` and derives its weights. */
export function verificationScalars(
  proof: InnerProductProof,
  n: number,
  transcript: Transcript,
): VerificationScalars {
  const rounds = proof.L.length;
  transcript.appendU64("ipp-n", n);
  const u: bigint[] = [];
  for (let i = 0; i < rounds; i++) {
    transcript.appendEncoded("L", proof.L[i] as Uint8Array);
    transcript.appendEncoded("R", proof.R[i] as Uint8Array);
    u.push(transcript.challengeScalar("u"));
  }
  const uInv = Fn.invertBatch(u);
  const uSquared = u.map((x) => Fn.sqr(x));
  const uInverseSquared = uInv.map((x) => Fn.sqr(x));
  let allInv = 1n;
  for (const x of uInv) allInv = Fn.mul(allInv, x);
  // s_i = Π u_j^(±1) by the bits of i; built incrementally (dalek's order: u stored first round first).
  const s: bigint[] = [allInv];
  for (let i = 1; i < n; i++) {
    const lgI = 31 - Math.clz32(i);
    const k = 1 << lgI;
    s.push(Fn.mul(s[i - k] as bigint, uSquared[rounds - 1 - lgI] as bigint));
  }
  return { uSquared, uInverseSquared, s };
}
