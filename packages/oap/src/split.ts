import { concatBytes } from "./bytes.js";
import { HEADER_LEN } from "./constants.js";
import { OapError } from "./errors.js";

/** One piece of a message to be cut into frames no longer than max_frame (specs/oap-1.md §4.1, §9). */
export interface SplitInput {
  /** The receiver's max_frame: the longest frame it accepts, header included. */
  maxFrame: number;
  /**
   * When this piece opens its side of the stream: the start of the START payload, i.e.
   * `meta_len` and the meta bytes (what `encodeStartPayload(meta)` returns). Absent for a
   * piece that continues a stream already started.
   */
  startPayloadHead?: Uint8Array;
  /** Capability bytes the START frame carries; they count against max_frame. Default 0. */
  capLen?: number;
  /** Body bytes of this piece. */
  body: Uint8Array;
  /** This piece ends its side of the stream: the last frame carries END. */
  end: boolean;
}

/** The payload of one frame and whether that frame carries START and END. */
export interface FramePiece {
  start: boolean;
  end: boolean;
  payload: Uint8Array;
}

const EMPTY = new Uint8Array(0);

/**
 * Cuts one piece of a request or response into frame payloads. With `startPayloadHead`, the
 * first payload is the START payload: the head (meta_len + meta) followed by as much body as
 * fits beside the header and capability; the rest of the body follows in continuations of
 * at most `maxFrame − 38` bytes, filling every frame but the last. END is set on the last
 * frame when `end` is; a continuation piece with no body yields one empty END frame when it
 * ends the stream and nothing otherwise.
 *
 * Throws 413 `frame_too_large` when the head and capability alone cannot fit one frame (meta
 * cannot be split), and RangeError when `maxFrame` is not an integer above the header length.
 * Payloads after the first are views of `body`, not copies.
 */
export function splitIntoFrames(input: SplitInput): FramePiece[] {
  const { maxFrame, startPayloadHead: head, body, end } = input;
  if (!Number.isInteger(maxFrame) || maxFrame <= HEADER_LEN) {
    throw new RangeError(`maxFrame must be an integer above ${HEADER_LEN}, got ${maxFrame}`);
  }
  const pieces: FramePiece[] = [];
  let offset = 0;

  if (head) {
    const capLen = input.capLen ?? 0;
    const room = maxFrame - HEADER_LEN - capLen - head.length;
    if (room < 0) {
      throw new OapError(
        "frame_too_large",
        `meta (${Math.max(0, head.length - 2)} bytes) and capability (${capLen} bytes) need a ` +
          `${HEADER_LEN + capLen + head.length}-byte START frame; max_frame is ${maxFrame}: send less meta`,
      );
    }
    offset = Math.min(room, body.length);
    const payload = offset === 0 ? head : concatBytes([head, body.subarray(0, offset)]);
    const last = offset === body.length;
    pieces.push({ start: true, end: last && end, payload });
    if (last) return pieces;
  } else if (body.length === 0) {
    if (end) pieces.push({ start: false, end: true, payload: EMPTY });
    return pieces;
  }

  const step = maxFrame - HEADER_LEN;
  while (offset < body.length) {
    const next = Math.min(offset + step, body.length);
    pieces.push({ start: false, end: end && next === body.length, payload: body.subarray(offset, next) });
    offset = next;
  }
  return pieces;
}
