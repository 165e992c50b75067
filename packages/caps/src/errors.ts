/**
 * Why a token was refused. Each is a canonical OAP/1 reason (specs/oap-1.md §7), so the node
 * maps it to its code without a table of its own:
 * - `unauthenticated` (401): missing, malformed, unknown key, bad MAC
 * - `cap_expired` (401): past `expires` or before `not-before`
 * - `cap_revoked` (401): its token id or tenant epoch was revoked
 * - `cap_too_large` (413): over MAX_TOKEN_BYTES or MAX_CAVEATS
 * - `tenant_mismatch` (403): the request's tenant is not the token's
 * - `forbidden` (403): app, op or topic not allowed, or a caveat this node cannot evaluate
 */
export type CapRefusal =
  | "unauthenticated"
  | "cap_expired"
  | "cap_revoked"
  | "cap_too_large"
  | "tenant_mismatch"
  | "forbidden";

/**
 * Thrown when a token is malformed or refused; `reason` says which, so the node answers with
 * the matching OAP/1 status and reason instead of parsing the message.
 */
export class CapError extends Error {
  /** `"CapError"`, as logs and `error.name` checks see it. */
  override readonly name = "CapError";
  constructor(
    /** The refusal, which the node maps to its status code (see {@link CapRefusal}). */
    readonly reason: CapRefusal,
    message: string,
  ) {
    super(message);
  }
}
