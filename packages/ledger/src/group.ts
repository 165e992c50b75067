/**
 * The group: ristretto255 (RFC 9496) from `@noble/curves`, prime order ℓ, so every encoded
 * element is a valid group member and there is no cofactor to clear. Scalars are bigints in
 * [0, ℓ), encoded as 32 bytes little-endian.
 */
import { pippenger } from "@noble/curves/abstract/curve.js";
import { ristretto255 } from "@noble/curves/ed25519.js";
import { bytesToNumberLE, numberToBytesLE } from "@noble/curves/utils.js";
import { randomBytes } from "@noble/hashes/utils.js";
import { LedgerProofError } from "./errors.js";

const RistrettoPoint = ristretto255.Point;
/** A ristretto255 group element. */
export type Point = InstanceType<typeof ristretto255.Point>;
/** The identity element. */
export const IDENTITY: Point = RistrettoPoint.ZERO;
/** The ristretto255 base point. */
export const BASE: Point = RistrettoPoint.BASE;

/** The scalar field (integers modulo the group order ℓ). */
export const Fn = ristretto255.Point.Fn;
/** The group order ℓ = 2^252 + 27742317777372353535851937790883648493. */
export const ORDER = Fn.ORDER;
/** Bytes of an encoded point or scalar. */
export const ELEMENT_BYTES = 32;

/** A uniform scalar from 64 bytes (reduced modulo ℓ: the bias is about 2^-259). */
export function scalarFromWide(bytes: Uint8Array): bigint {
  return Fn.create(bytesToNumberLE(bytes));
}

/** A fresh uniformly random scalar (CSPRNG). */
export function randomScalar(): bigint {
  return scalarFromWide(randomBytes(64));
}

/** The 32-byte little-endian encoding of a scalar in [0, ℓ). */
export function scalarToBytes(s: bigint): Uint8Array {
  return numberToBytesLE(s, ELEMENT_BYTES);
}

/** A scalar from its canonical encoding; refuses a value ≥ ℓ (a second encoding of the same scalar). */
export function scalarFromBytes(bytes: Uint8Array, what: string): bigint {
  const s = bytesToNumberLE(bytes);
  if (s >= ORDER) throw new LedgerProofError("bad_scalar", `${what} is not a canonical scalar (≥ ℓ)`);
  return s;
}

/** A point from its canonical 32-byte ristretto255 encoding, or "bad_point". */
export function pointFromBytes(bytes: Uint8Array, what: string): Point {
  try {
    return RistrettoPoint.fromBytes(bytes);
  } catch {
    throw new LedgerProofError("bad_point", `${what} is not a canonical ristretto255 encoding`);
  }
}

/**
 * `s·P` for a secret scalar, in constant time (noble's `multiply`). Only whether `s` is zero
 * shows in the timing: noble refuses 0, which has a single answer.
 */
export function mulSecret(p: Point, s: bigint): Point {
  return s === 0n ? IDENTITY : p.multiply(s);
}

/**
 * Σ sᵢ·Pᵢ in variable time: public scalars, or secret ones where their timing is not the
 * secret worth keeping (see docs/ledger.md, "Side channels"). Pippenger has a high fixed cost,
 * so short sums go through noble's plain multiply-and-add.
 */
export function multiScalarMul(points: readonly Point[], scalars: readonly bigint[]): Point {
  if (points.length !== scalars.length) throw new RangeError("multiScalarMul: lengths differ");
  if (points.length <= 4) {
    let acc = IDENTITY;
    for (let i = 0; i < points.length; i++) {
      const s = scalars[i] as bigint;
      if (s !== 0n) acc = acc.add((points[i] as Point).multiplyUnsafe(s));
    }
    return acc;
  }
  return pippenger(RistrettoPoint, points as Point[], scalars as bigint[]);
}
