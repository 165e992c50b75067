import {
  OapAbortError,
  type OapClientError,
  OapConnectionError,
  OapProtocolError,
  OapTimeoutError,
} from "./errors.js";

/** Re-labels a call-scope error with the corr_id it happened on. */
export function withCorrId(error: OapClientError, corrId: bigint | undefined): OapClientError {
  if (corrId === undefined || error.corrId !== undefined) return error;
  if (error instanceof OapTimeoutError) return new OapTimeoutError(error.message, corrId);
  if (error instanceof OapAbortError) return new OapAbortError(error.message, corrId, error.cause);
  if (error instanceof OapConnectionError) return error.forStream(corrId);
  if (error instanceof OapProtocolError) return new OapProtocolError(error.message, corrId);
  return error;
}
