/**
 * The public parameters: group elements derived by RFC 9380 hash-to-curve
 * (`ristretto255_hasher.hashToCurve`, SHA-512, expand_message_xmd) from fixed strings, so
 * nobody knows a discrete log between any two of them and there is no trusted setup. Bumping
 * `PARAMETERS_VERSION` (it is part of every domain separator) rotates them all.
 *
 *   B   = the ristretto255 base point (the value base)
 *   B̃   = hashToCurve("H",      DST "omnigate/v1/pedersen")   (the blinding base)
 *   Gᵢ  = hashToCurve(u32le(i), DST "omnigate/v1/bulletproofs/G")
 *   Hᵢ  = hashToCurve(u32le(i), DST "omnigate/v1/bulletproofs/H")
 */
import { ristretto255_hasher } from "@noble/curves/ed25519.js";
import { utf8ToBytes } from "@noble/hashes/utils.js";
import { BASE, type Point } from "./group.js";

/** Part of every domain separator: a new version means new generators and new transcripts. */
export const PARAMETERS_VERSION = "omnigate/v1";

export const PEDERSEN_DST = `${PARAMETERS_VERSION}/pedersen`;
export const BULLETPROOFS_G_DST = `${PARAMETERS_VERSION}/bulletproofs/G`;
export const BULLETPROOFS_H_DST = `${PARAMETERS_VERSION}/bulletproofs/H`;

/** The Pedersen bases: a commitment to v with blinding r is v·B + r·B̃. */
export interface PedersenGenerators {
  readonly B: Point;
  readonly blinding: Point;
}

let pedersen: PedersenGenerators | undefined;

export function pedersenGenerators(): PedersenGenerators {
  pedersen ??= {
    B: BASE,
    blinding: ristretto255_hasher.hashToCurve(utf8ToBytes("H"), { DST: PEDERSEN_DST }) as Point,
  };
  return pedersen;
}

const vectorG: Point[] = [];
const vectorH: Point[] = [];

/**
 * The first `count` vector generators G and H of the range proof (derived once, about 0.3 ms
 * each, and kept: 2 × 2048 of them for 64 aggregated 32-bit values).
 */
export function bulletproofGenerators(count: number): { G: readonly Point[]; H: readonly Point[] } {
  for (let i = vectorG.length; i < count; i++) {
    const index = new Uint8Array(4);
    new DataView(index.buffer).setUint32(0, i, true);
    vectorG.push(ristretto255_hasher.hashToCurve(index, { DST: BULLETPROOFS_G_DST }) as Point);
    vectorH.push(ristretto255_hasher.hashToCurve(index, { DST: BULLETPROOFS_H_DST }) as Point);
  }
  return { G: vectorG.slice(0, count), H: vectorH.slice(0, count) };
}
