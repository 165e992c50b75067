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

export interface FrameHeader {
  /** Whole frame length, header included. */
  len: number;
  ver: number;
  flags: number;
  code: number;
  appProtoId: number;
  /** u128 tenant id. */
  tenantId: bigint;
  capLen: number;
  /** u64 correlation id. */
  corrId: bigint;
}

export interface HeaderLimits {
  maxFrame: number;
}

export const DEFAULT_HEADER_LIMITS: HeaderLimits = { maxFrame: DEFAULT_MAX_FRAME };

const U64_MASK = (1n << 64n) - 1n;

export function readTenantId(buf: Uint8Array, at: number): bigint {
  const view = viewOf(buf);
  const hi = view.getBigUint64(at);
  const lo = view.getBigUint64(at + 8);
  return (hi << 64n) | lo;
}

export function readHeader(buf: Uint8Array, at = 0): FrameHeader {
  const view = viewOf(buf);
  return {
    len: view.getUint32(at + Offset.len),
    ver: view.getUint16(at + Offset.ver),
    flags: view.getUint16(at + Offset.flags),
    code: view.getUint16(at + Offset.code),
    appProtoId: view.getUint16(at + Offset.appProtoId),
    tenantId: readTenantId(buf, at + Offset.tenantId),
    capLen: view.getUint16(at + Offset.capLen),
    corrId: view.getBigUint64(at + Offset.corrId),
  };
}

export function writeHeader(buf: Uint8Array, header: FrameHeader, at = 0): void {
  const view = viewOf(buf);
  view.setUint32(at + Offset.len, header.len);
  view.setUint16(at + Offset.ver, header.ver);
  view.setUint16(at + Offset.flags, header.flags);
  view.setUint16(at + Offset.code, header.code);
  view.setUint16(at + Offset.appProtoId, header.appProtoId);
  view.setBigUint64(at + Offset.tenantId, (header.tenantId >> 64n) & U64_MASK);
  view.setBigUint64(at + Offset.tenantId + 8, header.tenantId & U64_MASK);
  view.setUint16(at + Offset.capLen, header.capLen);
  view.setBigUint64(at + Offset.corrId, header.corrId);
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

function viewOf(buf: Uint8Array): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}

function hex4(n: number): string {
  return n.toString(16).padStart(4, "0");
}
