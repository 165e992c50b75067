/**
 * `@omnigate/oap/internal`: the public API plus the parts the SDK and the node are built
 * from (byte helpers, header codec, stream tables, frame writer and splitter). Not a stable
 * API: these change with the SDK and the node.
 */

export {
  allocBytes,
  asBuffer,
  concatBytes,
  copyBytes,
  copyInto,
  nextTick,
  utf8Bytes,
  viewOf,
} from "./bytes.js";
export { KIND_FLAGS_MASK, Offset, RESERVED_FLAGS_MASK } from "./constants.js";
export { CorrIdMap } from "./corr-id-map.js";
export { errorFrame, toOapError } from "./error-frame.js";
export { attachBody, encodeHead, frameFromValidated } from "./frame.js";
export {
  dataViewOf,
  readFrameHead,
  readFrameHeadFrom,
  readHeader,
  validateHeader,
  writeHeader,
  writeHeaderFields,
  writeHeaderTo,
} from "./header.js";
export * from "./index.js";
export { checkFrameMessage, FrameMessageSplitter } from "./message-framing.js";
export { startMeta, startMetaLength, startPayload } from "./payload.js";
export {
  SHAPING_HOLD_LIMIT,
  type ShapingObserver,
  type ShapingSettings,
  ShapingSink,
  type ShapingSinkOptions,
  type ShapingTimers,
  type StreamSink,
} from "./shaping-sink.js";
export { type FramePiece, type SplitInput, splitIntoFrames } from "./split.js";
export {
  type CorrKey,
  corrKey,
  type OpenStream,
  RequestStreamTable,
  type StreamAction,
} from "./stream-table.js";
export {
  type ByteSink,
  type FrameHead,
  FrameWriter,
  type StartFrameInit,
  WRITE_BATCH_BYTES,
} from "./writer.js";
export { windowLogFor } from "./zstd-guard.js";
