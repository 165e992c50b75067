/** Pedersen commitments: C = v·B + r·B̃, hiding (r uniform) and binding (no known log of B̃ to B). */
import { pedersenGenerators } from "./generators.js";
import { Fn, mulSecret, type Point } from "./group.js";

/** Commits to `value` (an integer in [0, ℓ)) with the blinding `blinding`. */
export function commit(value: bigint, blinding: bigint): Point {
  const { B, blinding: H } = pedersenGenerators();
  return mulSecret(B, Fn.create(value)).add(mulSecret(H, blinding));
}
