/** Vector arithmetic over the scalar field, as the range proof and its inner-product argument use it. */
import { Fn } from "./group.js";

/** ⟨a, b⟩ = Σ aᵢ·bᵢ mod ℓ. */
export function innerProduct(a: readonly bigint[], b: readonly bigint[]): bigint {
  if (a.length !== b.length) throw new RangeError("innerProduct: lengths differ");
  let acc = 0n;
  for (let i = 0; i < a.length; i++) acc += (a[i] as bigint) * (b[i] as bigint);
  return Fn.create(acc);
}

/** [1, x, x², …, x^(n−1)] mod ℓ. */
export function powers(x: bigint, n: number): bigint[] {
  const out: bigint[] = new Array(n);
  let p = 1n;
  for (let i = 0; i < n; i++) {
    out[i] = p;
    p = Fn.mul(p, x);
  }
  return out;
}

/** Σ x^i for i in [0, n) mod ℓ. */
export function sumOfPowers(x: bigint, n: number): bigint {
  let acc = 0n;
  let p = 1n;
  for (let i = 0; i < n; i++) {
    acc += p;
    p = Fn.mul(p, x);
  }
  return Fn.create(acc);
}

/** x^e mod ℓ. */
export function pow(x: bigint, e: number): bigint {
  return Fn.pow(x, BigInt(e));
}
