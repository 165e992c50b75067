import {
  DEFAULT_MAX_FRAME,
  Flags,
  HEADER_LEN,
  KIND_FLAGS_MASK,
  OAP_VERSION,
  Offset,
  RESERVED_FLAGS_MASK,
} from "./constants.js";
import { FrameHeaderError } from "./errors.js";
import type { Frame, FrameHeader } from "./frame-types.js";

export interface HeaderLimits {
  maxFrame: number;
}

export const DEFAULT_HEADER_LIMITS: HeaderLimits = { maxFrame: DEFAULT_MAX_FRAME };

// Headers are read and written through a DataView over the bytes: one big-endian load or
// store per field, where byte arithmetic took four bounds-checked byte accesses and shifts
// (about 2× slower to read a header and 6× slower to write one on Node 20). The hot paths
// keep one DataView per received chunk (the decoder) or per arena (the writer); the byte-array
// forms below make one per call. The common zero tenant and corr_ids below 2^53 need no BigInt
// arithmetic.

/** A DataView over exactly `bytes`. */
export function dataViewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
}

/** Reads a big-endian unsigned integer of `words` 32-bit words. */
function readWords(view: DataView, at: number, words: number): bigint {
  let value = 0n;
  for (let i = 0; i < words; i++) value = (value << 32n) | BigInt(view.getUint32(at + 4 * i));
  return value;
}

/** The 128-bit tenant id at `at`: no BigInt work for tenant 0, one conversion below 2^32. */
function readTenant(view: DataView, at: number): bigint {
  if ((view.getUint32(at) | view.getUint32(at + 4) | view.getUint32(at + 8)) !== 0) {
    return readWords(view, at, 4);
  }
  const low = view.getUint32(at + 12);
  return low === 0 ? 0n : BigInt(low);
}

/** Writes `value` as a big-endian unsigned integer of `words` 32-bit words. */
function writeWords(view: DataView, at: number, words: number, value: bigint): void {
  if (value === 0n) {
    // The common tenant: no comparison or conversion of BigInts (the conversion is a V8 runtime call).
    for (let i = 0; i < words; i++) view.setUint32(at + 4 * i, 0);
    return;
  }
  if (value <= 0xffffffffn) {
    for (let i = 0; i < words - 1; i++) view.setUint32(at + 4 * i, 0);
    view.setUint32(at + 4 * (words - 1), Number(value));
    return;
  }
  let rest = value;
  for (let i = words - 1; i >= 0; i--) {
    view.setUint32(at + 4 * i, Number(rest & 0xffffffffn));
    rest >>= 32n;
  }
}

/** 2^32, and the largest high word of a corr_id below 2^53. */
const TWO_32 = 0x1_0000_0000;
const MAX_EXACT_HIGH = 0x1f_ffff;

const MAX_EXACT = BigInt(Number.MAX_SAFE_INTEGER);

/** `corrId` as a number when it is below 2^53, else −1 (Frame.corrKey from the BigInt). */
export function exactCorrKey(corrId: bigint): number {
  return corrId <= MAX_EXACT ? Number(corrId) : -1;
}

const NO_BYTES = new Uint8Array(0);

/**
 * Reads the header at `at` of `view` straight into a Frame whose cap and payload `attachBody`
 * fills in once the header passed its checks: the decoder's hot path builds one object per
 * frame, not two. `corrKey` is the corr_id as a number below 2^53, else −1.
 */
export function readFrameHeadFrom(view: DataView, at: number): Frame {
  const high = view.getUint32(at + Offset.corrId);
  const low = view.getUint32(at + Offset.corrId + 4);
  return {
    len: view.getUint32(at + Offset.len),
    ver: view.getUint16(at + Offset.ver),
    flags: view.getUint16(at + Offset.flags),
    code: view.getUint16(at + Offset.code),
    appProtoId: view.getUint16(at + Offset.appProtoId),
    tenantId: readTenant(view, at + Offset.tenantId),
    capLen: view.getUint16(at + Offset.capLen),
    corrId: high === 0 ? BigInt(low) : (BigInt(high) << 32n) | BigInt(low),
    cap: NO_BYTES,
    payload: NO_BYTES,
    corrKey: high > MAX_EXACT_HIGH ? -1 : high * TWO_32 + low,
  };
}

/** readFrameHeadFrom for a byte array (one DataView per call: not for hot paths). */
export function readFrameHead(buf: Uint8Array, at: number): Frame {
  return readFrameHeadFrom(dataViewOf(buf), at);
}

/** Reads the 38 header bytes at `at` (the result also carries empty cap/payload slots). */
export function readHeader(buf: Uint8Array, at = 0): FrameHeader {
  return readFrameHead(buf, at);
}

export function writeHeader(buf: Uint8Array, header: FrameHeader, at = 0): void {
  const view = dataViewOf(buf);
  writeHeaderTo(
    view,
    at,
    header.len,
    header.flags,
    header.code,
    header.appProtoId,
    header.tenantId,
    header.capLen,
    header.corrId,
  );
  // Keep the given version: tests and vectors write invalid ones on purpose.
  view.setUint16(at + Offset.ver, header.ver);
}

/**
 * Writes a version-1 header from its fields at `at` of `view`, without building a header object
 * (the writer's hot path). `corrKey` is `corrId` as a number when the caller has it: no BigInt
 * conversion then; one above 2^53 − 1 is ignored.
 */
export function writeHeaderTo(
  view: DataView,
  at: number,
  len: number,
  flags: number,
  code: number,
  appProtoId: number,
  tenantId: bigint,
  capLen: number,
  corrId: bigint,
  corrKey = -1,
): void {
  view.setUint32(at + Offset.len, len);
  view.setUint16(at + Offset.ver, OAP_VERSION);
  view.setUint16(at + Offset.flags, flags);
  view.setUint16(at + Offset.code, code);
  view.setUint16(at + Offset.appProtoId, appProtoId);
  writeWords(view, at + Offset.tenantId, 4, tenantId);
  view.setUint16(at + Offset.capLen, capLen);
  if (corrKey >= 0 && corrKey <= Number.MAX_SAFE_INTEGER) {
    view.setUint32(at + Offset.corrId, Math.floor(corrKey / TWO_32));
    view.setUint32(at + Offset.corrId + 4, corrKey >>> 0);
  } else {
    writeWords(view, at + Offset.corrId, 2, corrId);
  }
}

/** writeHeaderTo's arguments after the view: `at`, `len`, … `corrKey`. */
type HeaderFieldArgs = Parameters<typeof writeHeaderTo> extends [DataView, ...infer Rest] ? Rest : never;

/** writeHeaderTo for a byte array (one DataView per call: not for hot paths). */
export function writeHeaderFields(buf: Uint8Array, ...fields: HeaderFieldArgs): void {
  writeHeaderTo(dataViewOf(buf), ...fields);
}

/**
 * The header checks of specs/oap-1.md §3, in their normative order. Any failure is
 * fatal for the connection: the length field cannot be trusted after it.
 */
export function validateHeader(h: FrameHeader, limits: HeaderLimits = DEFAULT_HEADER_LIMITS): void {
  if ((h.flags & RESERVED_FLAGS_MASK) !== 0) {
    throw new FrameHeaderError("bad_flags", `reserved flag bits set (flags=0x${hex4(h.flags)})`, h.corrId);
  }
  if (h.ver !== OAP_VERSION) {
    throw new FrameHeaderError("bad_version", `unsupported version ${h.ver}; this node speaks 1`, h.corrId);
  }
  if (h.len < HEADER_LEN) {
    throw new FrameHeaderError("bad_frame", `frame length ${h.len} is below the 38-byte header`, h.corrId);
  }
  if (h.len > limits.maxFrame) {
    throw new FrameHeaderError(
      "frame_too_large",
      `frame length ${h.len} exceeds max_frame ${limits.maxFrame}`,
      h.corrId,
    );
  }
  if (h.capLen > 0 && (h.flags & Flags.START) === 0) {
    throw new FrameHeaderError("cap_on_non_start", "a capability may only ride on a START frame", h.corrId);
  }
  if (HEADER_LEN + h.capLen > h.len) {
    throw new FrameHeaderError(
      "bad_frame",
      `cap_len ${h.capLen} does not fit in a frame of ${h.len} bytes`,
      h.corrId,
    );
  }
  const kind = h.flags & KIND_FLAGS_MASK;
  if (kind !== Flags.REQ && kind !== Flags.RESP && kind !== Flags.EVENT) {
    throw new FrameHeaderError("bad_flags", "exactly one of REQ, RESP, EVENT must be set", h.corrId);
  }
}

function hex4(n: number): string {
  return n.toString(16).padStart(4, "0");
}
