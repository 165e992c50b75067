/**
 * @omnigate/oap: the OAP/1 wire format, for the SDK, the node and any independent client.
 * Every name here is public API; the buffers, stream tables and writers the SDK and the
 * node are built from are in `@omnigate/oap/internal`.
 */
export {
  AppProtoId,
  AppProtoRange,
  DEFAULT_MAX_CAP_LEN,
  DEFAULT_MAX_FRAME,
  DEFAULT_MAX_INFLIGHT,
  FLAGS_SUPPORTED,
  type FlagName,
  Flags,
  flagNames,
  formatAppProtoId,
  HEADER_LEN,
  MAX_META_LEN,
  OAP_VERSION,
} from "./constants.js";
export { FrameDecoder } from "./decoder.js";
export { FrameHeaderError, OapError } from "./errors.js";
export { decodeFrame, encodeFrame } from "./frame.js";
export type { Frame, FrameHeader, FrameInit } from "./frame-types.js";
export { DEFAULT_HEADER_LIMITS, type HeaderLimits } from "./header.js";
export {
  type CompLimits,
  type HelloCapResult,
  type HelloReply,
  type HelloRequest,
  type HelloService,
  type HelloShaping,
  isHelloReply,
  type RevokedEvent,
} from "./hello.js";
export { WS_PATH, WS_SUBPROTOCOL } from "./message-framing.js";
export {
  bucketLength,
  encodePadFrame,
  isPadFrame,
  PAD_FRAME_MIN,
  PAD_META,
  type PaddingScheme,
  POW2_MIN_BUCKET,
  paddedBurstLength,
  padFrameLengths,
  padmeBucket,
  pow2Bucket,
} from "./padding.js";
export {
  decodeStartPayload,
  type ErrorMeta,
  encodeMeta,
  encodeStartPayload,
  type Meta,
  parseMeta,
  type StartPayload,
} from "./payload.js";
export { isReason, isRetryableCode, REASONS, type Reason, STATUS_CODES, type StatusCode } from "./reasons.js";
export { BoundedInflater, compressBody, DEFAULT_INFLATE_LIMITS, type InflateLimits } from "./zstd-guard.js";
