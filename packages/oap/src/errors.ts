import { REASONS, type Reason } from "./reasons.js";

/**
 * A protocol error with its status code and canonical reason.
 * `fatal` errors come from header checks: the frame length cannot be trusted,
 * so the connection is answered with an error frame and closed.
 */
export class OapError extends Error {
  readonly code: number;
  readonly reason: Reason;
  readonly fatal: boolean;
  readonly retryAfterMs: number | undefined;

  constructor(
    reason: Reason,
    message: string,
    options: { fatal?: boolean; code?: number; retryAfterMs?: number } = {},
  ) {
    super(message);
    this.name = "OapError";
    this.reason = reason;
    this.code = options.code ?? REASONS[reason];
    this.fatal = options.fatal ?? false;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** A header check failed; the connection must close after the error frame. */
export class FrameHeaderError extends OapError {
  /** corr_id of the offending header, when all 38 bytes were read. */
  readonly corrId: bigint;

  constructor(reason: Reason, message: string, corrId = 0n) {
    super(reason, message, { fatal: true });
    this.name = "FrameHeaderError";
    this.corrId = corrId;
  }
}
