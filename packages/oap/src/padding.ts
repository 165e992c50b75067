import { allocBytes } from "./bytes.js";
import { Flags, HEADER_LEN } from "./constants.js";
import type { Frame } from "./frame-types.js";
import { writeHeaderFields } from "./header.js";

/**
 * PAD frames and the bucket sizes bursts are padded to (specs/oap-1.md §10.1): an observer
 * of TLS records then sees bucket sizes, not the sizes of what the app sent.
 */

/** How a sender rounds the length of each write burst up. */
export type PaddingScheme = "padme" | "pow2" | "off";

/** The meta of every PAD frame, byte for byte. */
export const PAD_META = '{"event":"pad"}';
const PAD_META_BYTES = Uint8Array.from(PAD_META, (c) => c.charCodeAt(0));
/** The flags of every PAD frame: a one-frame control event. */
const PAD_FLAGS = Flags.EVENT | Flags.START | Flags.END;
/** The smallest PAD frame: header, meta_len and the meta, no filler (55 bytes). */
export const PAD_FRAME_MIN = HEADER_LEN + 2 + PAD_META_BYTES.length;
/** The smallest bucket of `pow2`: bursts below it would leave too few sizes to hide among. */
export const POW2_MIN_BUCKET = 64;

/**
 * Padmé (Nikitin et al., "Reducing Metadata Leakage from Encrypted Files and Communication
 * with PURBs", PETS 2019): keeps the top ⌊log2 E⌋ + 1 bits of L's E + 1 significant bits and
 * rounds the rest up, so at most O(log log L) bits of the size leak and the overhead stays
 * under 12 %.
 */
export function padmeBucket(length: number): number {
  if (length < 2) return length;
  const e = floorLog2(length);
  const s = floorLog2(e) + 1;
  // Exact in floating point for any length below 2^53: the unit is a power of two.
  const unit = 2 ** (e - s);
  return Math.ceil(length / unit) * unit;
}

/** The smallest power of two ≥ `length`, and at least POW2_MIN_BUCKET. */
export function pow2Bucket(length: number): number {
  let bucket = POW2_MIN_BUCKET;
  while (bucket < length) bucket *= 2;
  return bucket;
}

/** `length` rounded up to its bucket under `scheme` ("off": unchanged). */
export function bucketLength(length: number, scheme: PaddingScheme): number {
  if (scheme === "padme") return padmeBucket(length);
  if (scheme === "pow2") return pow2Bucket(length);
  return length;
}

/**
 * The length a burst of `dataBytes` grows to once padded, with at least `minPad` bytes of
 * PAD frames in it (0, or a cover burst's drawn size ≥ PAD_FRAME_MIN). The padding must hold
 * at least one whole PAD frame: when the bucket leaves a gap of 1–54 bytes, the burst goes to
 * the bucket of dataBytes + 55 instead.
 */
export function paddedBurstLength(dataBytes: number, scheme: PaddingScheme, minPad = 0): number {
  let target = bucketLength(dataBytes + minPad, scheme);
  if (target > dataBytes && target - dataBytes < PAD_FRAME_MIN) {
    target = bucketLength(dataBytes + PAD_FRAME_MIN, scheme);
  }
  return target;
}

/**
 * Lengths of the PAD frames that make `padBytes` (0 or ≥ PAD_FRAME_MIN) of padding, none
 * longer than `maxFrame`: whole frames of maxFrame while more remains, the last one never
 * below the PAD_FRAME_MIN a frame needs.
 */
export function padFrameLengths(padBytes: number, maxFrame: number): number[] {
  if (padBytes > 0 && padBytes < PAD_FRAME_MIN) {
    throw new RangeError(
      `padding of ${padBytes} bytes cannot be made of PAD frames (at least ${PAD_FRAME_MIN})`,
    );
  }
  const lengths: number[] = [];
  let rest = padBytes;
  while (rest > maxFrame) {
    const take = rest - maxFrame >= PAD_FRAME_MIN ? maxFrame : rest - PAD_FRAME_MIN;
    lengths.push(take);
    rest -= take;
  }
  if (rest > 0) lengths.push(rest);
  return lengths;
}

/**
 * One PAD frame of `length` bytes (≥ PAD_FRAME_MIN): EVENT|START|END on app_proto_id 0,
 * tenant 0, corr_id 0, meta `{"event":"pad"}`, and zeros as filler.
 */
export function encodePadFrame(length: number): Buffer {
  if (!Number.isInteger(length) || length < PAD_FRAME_MIN) {
    throw new RangeError(`a PAD frame is at least ${PAD_FRAME_MIN} bytes, not ${length}`);
  }
  const frame = allocBytes(length);
  writeHeaderFields(frame, 0, length, PAD_FLAGS, 0, 0, 0n, 0, 0n);
  frame[HEADER_LEN] = 0;
  frame[HEADER_LEN + 1] = PAD_META_BYTES.length;
  frame.set(PAD_META_BYTES, HEADER_LEN + 2);
  frame.fill(0, PAD_FRAME_MIN);
  return frame;
}

/**
 * True for a PAD frame, which a receiver discards without a reply. Every field must be
 * exactly as encodePadFrame writes it (the filler aside), so no other control event, however
 * close, is mistaken for one.
 */
export function isPadFrame(frame: Frame): boolean {
  if (
    frame.flags !== PAD_FLAGS ||
    frame.appProtoId !== 0 ||
    frame.code !== 0 ||
    frame.capLen !== 0 ||
    frame.corrId !== 0n ||
    frame.tenantId !== 0n
  ) {
    return false;
  }
  const payload = frame.payload;
  const metaLen = PAD_META_BYTES.length;
  if (payload.length < 2 + metaLen || payload[0] !== 0 || payload[1] !== metaLen) return false;
  for (let i = 0; i < metaLen; i++) if (payload[2 + i] !== PAD_META_BYTES[i]) return false;
  return true;
}

/** ⌊log2 n⌋ for an integer n ≥ 1, without floating-point rounding at powers of two. */
function floorLog2(n: number): number {
  if (n < 2 ** 31) return 31 - Math.clz32(n);
  let log = 0;
  for (let v = n; v >= 2; v = Math.floor(v / 2)) log++;
  return log;
}
