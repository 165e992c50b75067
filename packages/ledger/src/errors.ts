/** Why a proof or record was refused; stable strings for metrics labels and logs. */
export type LedgerRejectReason =
  /** Wrong length, version, scheme or parameters: the bytes are not a proof this code reads. */
  | "malformed"
  /** A 32-byte group element that is not the canonical encoding of a ristretto255 point. */
  | "bad_point"
  /** A 32-byte scalar that is not reduced modulo the group order. */
  | "bad_scalar"
  /** The range proof does not show every part in [0, 2^bits). */
  | "range_proof_failed"
  /** The parts do not sum to the committed total. */
  | "sum_proof_failed";

/** A proof (or its encoding) was refused; `reason` says which check failed. */
export class LedgerProofError extends Error {
  override readonly name = "LedgerProofError";
  constructor(
    readonly reason: LedgerRejectReason,
    message: string,
  ) {
    super(message);
  }
}
