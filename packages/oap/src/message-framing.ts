import { HEADER_LEN } from "./constants.js";
import { FrameHeaderError } from "./errors.js";
import { DEFAULT_HEADER_LIMITS, type HeaderLimits, readHeader, validateHeader } from "./header.js";

/**
 * OAP/1 over a message transport (WebSocket, specs/oap-1.md §12.1): each binary message
 * carries exactly one frame. These two pieces map between that rule and the byte stream the
 * codec works on, for either side of a connection.
 */

/** The only path OAP/1 is served on over WebSocket. */
export const WS_PATH = "/oap";
/** The WebSocket subprotocol a client asks for and a node selects. */
export const WS_SUBPROTOCOL = "oap.1";

/**
 * Checks that a received message is exactly one frame: the header checks of §3 first (on the
 * first 38 bytes, when present), then that the header's `len` is the message's length.
 * Throws the FrameHeaderError the connection is failed with; a message that passes can be fed
 * to a FrameDecoder and yields exactly one frame.
 */
export function checkFrameMessage(message: Uint8Array, limits: HeaderLimits = DEFAULT_HEADER_LIMITS): void {
  if (message.length < HEADER_LEN) {
    throw new FrameHeaderError(
      "bad_frame",
      `a ${message.length}-byte message is shorter than a frame header; each WebSocket message carries exactly one whole frame`,
    );
  }
  const header = readHeader(message);
  validateHeader(header, limits);
  if (header.len !== message.length) {
    throw new FrameHeaderError(
      "bad_frame",
      header.len > message.length
        ? `the frame's len is ${header.len} but its message has ${message.length} bytes; a frame must not be split over messages`
        : `the message has ${message.length} bytes but its frame's len is ${header.len}; a message carries exactly one frame`,
      header.corrId,
    );
  }
}

/**
 * Cuts an OAP/1 byte stream (what a FrameWriter writes: whole frames, coalesced, a large
 * payload possibly in a chunk of its own) into per-frame pieces. `onPiece` gets every byte in
 * order; `last` is true on the piece that ends a frame, and `frameLen` is the whole frame's
 * length on the piece that starts a frame (0 on the others). A transport sends the pieces of one frame as one message: as fragments
 * of it, joined, or behind one message header announcing `frameLen` bytes.
 *
 * It trusts its input to be frames this process encoded; it is not a decoder of peer bytes.
 */
export class FrameMessageSplitter {
  /** Bytes of the current frame not yet passed on; 0 between frames. */
  private remaining = 0;
  /** A header split across chunks: its first bytes, until the 4-byte `len` is known. */
  private readonly lenBytes = new Uint8Array(4);
  private lenHave = 0;
  /** The len of the frame whose first piece is next, or 0 inside a frame. */
  private startLen = 0;

  constructor(private readonly onPiece: (piece: Uint8Array, last: boolean, frameLen: number) => void) {}

  /** True between frames: every byte pushed so far has been passed on in whole frames. */
  get atBoundary(): boolean {
    return this.remaining === 0 && this.lenHave === 0;
  }

  push(chunk: Uint8Array): void {
    let at = 0;
    const end = chunk.length;
    while (at < end) {
      if (this.remaining === 0) {
        at = this.readLen(chunk, at);
        if (this.remaining === 0) return; // the len field continues in the next chunk
      }
      const take = Math.min(this.remaining, end - at);
      const piece = at === 0 && take === end ? chunk : chunk.subarray(at, at + take);
      at += take;
      this.remaining -= take;
      const frameLen = this.startLen;
      this.startLen = 0;
      this.onPiece(piece, this.remaining === 0, frameLen);
    }
  }

  /** Reads the `len` of the frame starting at `at` and returns where its bytes begin (the len included). */
  private readLen(chunk: Uint8Array, at: number): number {
    if (this.lenHave === 0 && chunk.length - at >= 4) {
      this.remaining = frameLen(chunk, at);
      this.startLen = this.remaining;
      return at;
    }
    // Rare: the 4 len bytes straddle chunks. Pass the held bytes on as the frame's first piece.
    while (this.lenHave < 4 && at < chunk.length) this.lenBytes[this.lenHave++] = chunk[at++] as number;
    if (this.lenHave < 4) return at;
    const len = frameLen(this.lenBytes, 0);
    this.lenHave = 0;
    this.remaining = len - 4;
    this.onPiece(this.lenBytes.slice(), false, len);
    return at;
  }
}

function frameLen(bytes: Uint8Array, at: number): number {
  const len =
    (((bytes[at] as number) << 24) |
      ((bytes[at + 1] as number) << 16) |
      ((bytes[at + 2] as number) << 8) |
      (bytes[at + 3] as number)) >>>
    0;
  if (len < HEADER_LEN) throw new RangeError(`FrameMessageSplitter: a frame of len ${len} cannot be split`);
  return len;
}
