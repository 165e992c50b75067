import { Flags } from "./constants.js";
import { OapError } from "./errors.js";
import type { FrameInit } from "./frame-types.js";
import { type ErrorMeta, encodeStartPayload } from "./payload.js";

/**
 * The frame that reports `error` and ends a stream (specs/oap-1.md §7): RESP|END with the
 * error code, START as well unless a response already started; the payload always has
 * the START layout so the reason travels in meta.
 */
export function errorFrame(
  error: OapError,
  stream: { corrId: bigint; appProtoId: number; tenantId: bigint },
  responseStarted = false,
): FrameInit {
  const meta: ErrorMeta = { reason: error.reason, message: error.message };
  if (error.retryAfterMs !== undefined) meta.retry_after_ms = error.retryAfterMs;
  return {
    flags: Flags.RESP | Flags.END | (responseStarted ? 0 : Flags.START),
    code: error.code,
    appProtoId: stream.appProtoId,
    tenantId: stream.tenantId,
    corrId: stream.corrId,
    payload: encodeStartPayload(meta),
  };
}

/** Wraps anything thrown by a handler as an OapError (unknown errors become 500 `internal`). */
export function toOapError(err: unknown): OapError {
  if (err instanceof OapError) return err;
  return new OapError("internal", "internal error");
}
