/**
 * End-to-end encryption of the Vest chat: X3DH (without one-time prekeys) and the Double Ratchet
 * on noble's X25519, Ed25519, HKDF/HMAC-SHA256 and XChaCha20-Poly1305. Pure library for the page
 * and for Node tests; see docs/vest-crypto.md.
 */
export { type PublicBundle, verifyBundle } from "./bundle.js";
export { describeEnvelope, type EnvelopeSummary } from "./envelope.js";
export {
  BundleError,
  type BundleErrorReason,
  DecryptError,
  type DecryptErrorReason,
  DuplicateMessageError,
  type DuplicateMessageErrorReason,
  EnvelopeError,
  type EnvelopeErrorReason,
  StateError,
  type StateErrorReason,
  TooManySkippedError,
  type TooManySkippedErrorReason,
  VestCryptoError,
} from "./errors.js";
export { ChatIdentity, type ChatIdentityState, type SignedPrekeyState } from "./identity.js";
export type {
  ChatSessionsState,
  RatchetStateJSON,
  RetiredSessionState,
  SessionState,
  SkippedKeyState,
} from "./session-state.js";
export { CHAT_SESSIONS_DEFAULTS, ChatSessions, type ChatSessionsOptions } from "./sessions.js";
