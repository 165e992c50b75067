/**
 * Typed failures of the Vest chat crypto. Every error the library raises on bad input is one of
 * these, so the app can tell a redelivered message (drop it quietly) from a forged or corrupt one
 * (warn) without parsing messages. Each carries a canonical `reason` code.
 */
export abstract class VestCryptoError<Reason extends string = string> extends Error {
  readonly reason: Reason;

  constructor(reason: Reason, message: string) {
    super(message);
    this.reason = reason;
  }
}

export type BundleErrorReason =
  | "not_an_object"
  | "unsupported_version"
  | "invalid_user"
  | "invalid_key"
  | "weak_key"
  | "invalid_prekey_id"
  | "invalid_signature"
  | "bad_signature";

/** A public bundle is malformed or its signature does not verify. */
export class BundleError extends VestCryptoError<BundleErrorReason> {
  override readonly name = "BundleError";
}

export type EnvelopeErrorReason =
  | "not_bytes"
  | "truncated"
  | "unsupported_version"
  | "unknown_flags"
  | "invalid_sender";

/** The bytes are not a Vest envelope (wrong version, bad lengths, truncated). */
export class EnvelopeError extends VestCryptoError<EnvelopeErrorReason> {
  override readonly name = "EnvelopeError";
}

export type DecryptErrorReason =
  | "sender_mismatch"
  | "sender_identity_mismatch"
  | "unknown_session"
  | "session_retired"
  | "session_id_mismatch"
  | "unknown_signed_prekey"
  | "weak_key"
  | "unexpected_ratchet_key"
  | "authentication_failed"
  | "bad_padding";

/** The envelope parsed but cannot be opened: tampered, wrong keys, or not from the claimed sender. */
export class DecryptError extends VestCryptoError<DecryptErrorReason> {
  override readonly name = "DecryptError";
}

export type DuplicateMessageErrorReason = "message_key_used";

/** The message's key was already used (or, rarely, evicted): an at-least-once redelivery. */
export class DuplicateMessageError extends VestCryptoError<DuplicateMessageErrorReason> {
  override readonly name = "DuplicateMessageError";
}

export type TooManySkippedErrorReason = "too_many_skipped";

/** Opening the message would skip more message keys than `maxSkip` allows. */
export class TooManySkippedError extends VestCryptoError<TooManySkippedErrorReason> {
  override readonly name = "TooManySkippedError";
}

export type StateErrorReason = "invalid_state" | "identity_mismatch";

/** A saved identity or sessions state (e.g. from localStorage) is malformed or belongs to someone else. */
export class StateError extends VestCryptoError<StateErrorReason> {
  override readonly name = "StateError";
}
