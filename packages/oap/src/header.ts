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

// Byte arithmetic instead of a DataView per call, and no BigInt work for the common zero
// tenant and small corr_ids: this runs for every frame in both directions.

function u16(b: Uint8Array, at: number): number {
  return ((b[at] as number) << 8) | (b[at + 1] as number);
}

function u32(b: Uint8Array, at: number): number {
  return (
    (((b[at] as number) << 24) |
      ((b[at + 1] as number) << 16) |
      ((b[at + 2] as number) << 8) |
      (b[at + 3] as number)) >>>
    0
  );
}

function setU16(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 8;
  b[at + 1] = v & 0xff;
}

function setU32(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 24;
  b[at + 1] = (v >>> 16) & 0xff;
  b[at + 2] = (v >>> 8) & 0xff;
  b[at + 3] = v & 0xff;
}

/** Reads a big-endian unsigned integer of `words` 32-bit words. */
function readWords(b: Uint8Array, at: number, words: number): bigint {
  let small = 0;
  let big: bigint | undefined;
  for (let i = 0; i < words; i++) {
    const w = u32(b, at + 4 * i);
    if (big !== undefined) big = (big << 32n) | BigInt(w);
    else if (small === 0) small = w;
    else big = (BigInt(small) << 32n) | BigInt(w);
  }
  return big ?? (small === 0 ? 0n : BigInt(small));
}

/** Writes `value` as a big-endian unsigned integer of `words` 32-bit words. */
function writeWords(b: Uint8Array, at: number, words: number, value: bigint): void {
  if (value === 0n) {
    // The common tenant: no comparison or conversion of BigInts (the conversion is a V8 runtime call).
    for (let i = at; i < at + 4 * words; i++) b[i] = 0;
    return;
  }
  if (value <= 0xffffffffn) {
    const last = at + 4 * (words - 1);
    for (let i = at; i < last; i++) b[i] = 0; // a loop beats fill() for a dozen bytes
    setU32(b, last, Number(value));
    return;
  }
  let rest = value;
  for (let i = words - 1; i >= 0; i--) {
    setU32(b, at + 4 * i, Number(rest & 0xffffffffn));
    rest >>= 32n;
  }
}

/** 2^32, and the largest high word of a corr_id below 2^53. */
const TWO_32 = 0x1_0000_0000;
const MAX_EXACT_HIGH = 0x1f_ffff;

/** The u64 at `at` as a number when it is below 2^53, else −1 (Frame.corrKey from the bytes). */
function readExactU64(b: Uint8Array, at: number): number {
  const high = u32(b, at);
  return high > MAX_EXACT_HIGH ? -1 : high * TWO_32 + u32(b, at + 4);
}

const MAX_EXACT = BigInt(Number.MAX_SAFE_INTEGER);

/** `corrId` as a number when it is below 2^53, else −1 (Frame.corrKey from the BigInt). */
export function exactCorrKey(corrId: bigint): number {
  return corrId <= MAX_EXACT ? Number(corrId) : -1;
}

const NO_BYTES = new Uint8Array(0);

/**
 * Reads a header straight into a Frame whose cap and payload `attachBody` fills in once the
 * header passed its checks: the decoder's hot path builds one object per frame, not two.
 */
export function readFrameHead(buf: Uint8Array, at: number): Frame {
  return {
    len: u32(buf, at + Offset.len),
    ver: u16(buf, at + Offset.ver),
    flags: u16(buf, at + Offset.flags),
    code: u16(buf, at + Offset.code),
    appProtoId: u16(buf, at + Offset.appProtoId),
    tenantId: readWords(buf, at + Offset.tenantId, 4),
    capLen: u16(buf, at + Offset.capLen),
    corrId: readWords(buf, at + Offset.corrId, 2),
    cap: NO_BYTES,
    payload: NO_BYTES,
    corrKey: readExactU64(buf, at + Offset.corrId),
  };
}

/** Reads the 38 header bytes at `at` (the result also carries empty cap/payload slots). */
export function readHeader(buf: Uint8Array, at = 0): FrameHeader {
  return readFrameHead(buf, at);
}

export function writeHeader(buf: Uint8Array, header: FrameHeader, at = 0): void {
  writeHeaderFields(
    buf,
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
  setU16(buf, at + Offset.ver, header.ver);
}

/** Writes a version-1 header from its fields, without building a header object (the writer's hot path). */
export function writeHeaderFields(
  buf: Uint8Array,
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
  setU32(buf, at + Offset.len, len);
  setU16(buf, at + Offset.ver, OAP_VERSION);
  setU16(buf, at + Offset.flags, flags);
  setU16(buf, at + Offset.code, code);
  setU16(buf, at + Offset.appProtoId, appProtoId);
  writeWords(buf, at + Offset.tenantId, 4, tenantId);
  setU16(buf, at + Offset.capLen, capLen);
  // `corrKey` is `corrId` as a number when the caller has it: no BigInt conversion then.
  if (corrKey >= 0 && corrKey <= Number.MAX_SAFE_INTEGER) {
    setU32(buf, at + Offset.corrId, Math.floor(corrKey / TWO_32));
    setU32(buf, at + Offset.corrId + 4, corrKey >>> 0);
  } else {
    writeWords(buf, at + Offset.corrId, 2, corrId);
  }
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
