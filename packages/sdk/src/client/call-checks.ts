import { HEADER_LEN, OapError } from "@omnigate/oap";
import { OapClientError } from "./errors.js";

export function checkAppProtoId(appProtoId: number): void {
  if (!Number.isInteger(appProtoId) || appProtoId < 0 || appProtoId > 0xffff) {
    throw new RangeError(`app_proto_id must be an integer in 0..0xFFFF, got ${appProtoId}`);
  }
}

/** Rejects, before a slot is taken, a START whose meta and capability alone exceed max_frame. */
export function checkFitsFrame(
  meta: Uint8Array | undefined,
  cap: Uint8Array | undefined,
  maxFrame: number,
): void {
  const startLen = HEADER_LEN + (cap?.length ?? 0) + 2 + (meta?.length ?? 0);
  if (startLen > maxFrame) {
    throw new OapClientError(
      `meta and capability need a ${startLen}-byte START frame; the node's max_frame is ${maxFrame}: send less meta`,
      { code: 413, reason: "frame_too_large", retryable: false },
    );
  }
}

/** Any failure as an OapClientError (codec errors keep their code and reason). */
export function asClientError(error: unknown): OapClientError {
  if (error instanceof OapClientError) return error;
  if (error instanceof OapError) {
    return new OapClientError(error.message, {
      code: error.code,
      reason: error.reason,
      retryable: false,
      cause: error,
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new OapClientError(message, { code: 500, reason: "internal", retryable: false, cause: error });
}
