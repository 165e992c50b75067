import { allocBytes, copyInto, viewOf } from "./bytes.js";
import { HEADER_LEN } from "./constants.js";
import { FrameHeaderError } from "./errors.js";
import { attachBody } from "./frame.js";
import type { Frame, FrameHeader } from "./frame-types.js";
import {
  DEFAULT_HEADER_LIMITS,
  dataViewOf,
  type HeaderLimits,
  readFrameHeadFrom,
  validateHeader,
} from "./header.js";

/**
 * Incremental decoder for an OAP/1 byte stream.
 *
 * - Partial and coalesced reads at any split point yield the same frames.
 * - The header is validated as soon as its 38 bytes are present, before any body byte
 *   is kept, so a hostile length never causes buffering or allocation.
 * - A frame that lies inside one received chunk is yielded as a view (no copy); only a
 *   frame split across chunks is assembled, into one buffer that grows up to its
 *   validated length. No view of a caller's chunk is kept between calls, so memory
 *   follows the bytes received whatever the read sizes (1-byte reads included).
 * - What it holds between calls is always less than one frame (< max_frame).
 * - After a FrameHeaderError the decoder is poisoned: the stream cannot be resynchronised.
 */
export class FrameDecoder {
  private readonly limits: HeaderLimits;
  /** The first bytes of a frame whose header has not fully arrived (copied: at most 37 bytes). */
  private readonly headBytes = new Uint8Array(HEADER_LEN);
  private readonly headView = dataViewOf(this.headBytes);
  /**
   * The frame being assembled once its header is valid. It grows geometrically up to the
   * frame's validated length, so memory stays proportional to the bytes received, and
   * tiny reads cost one copy each instead of one retained view each.
   */
  private assembly: Uint8Array | undefined;
  private pendingBytes = 0;
  private header: Frame | undefined;
  private failed: FrameHeaderError | undefined;

  constructor(limits: Partial<HeaderLimits> = {}) {
    this.limits = { ...DEFAULT_HEADER_LIMITS, ...limits };
  }

  /** Bytes held between calls (always below max_frame). */
  get buffered(): number {
    return this.pendingBytes;
  }

  /** The header of the frame being assembled, once its 38 bytes have arrived. */
  get partialHeader(): FrameHeader | undefined {
    return this.header;
  }

  /**
   * Feeds bytes and returns every frame they complete, in order. Throws a
   * FrameHeaderError on the first header that fails its checks; frames completed
   * before it in the same chunk are returned first via `onFrame` when given.
   */
  push(input: Uint8Array, onFrame?: (frame: Frame) => void): Frame[] {
    if (this.failed) throw this.failed;
    // Frames are views of the chunk. Made from a plain Uint8Array view of it, never from a
    // Node Buffer: Buffer's subarray is JavaScript and builds a FastBuffer per call, and
    // payloads of one class keep every `length` read downstream monomorphic (an assembled
    // frame is wrapped the same way).
    const buffer = input.buffer;
    const byteOffset = input.byteOffset;
    const chunk =
      Object.getPrototypeOf(input) === Uint8Array.prototype
        ? input
        : new Uint8Array(buffer, byteOffset, input.length);
    const out: Frame[] = [];
    const emit = onFrame ?? ((f: Frame) => out.push(f));
    let offset = 0;

    // Finish a frame that started in an earlier chunk.
    if (this.pendingBytes > 0) {
      offset = this.fillPending(chunk, emit);
      if (this.pendingBytes > 0) return out;
    }

    // Whole frames inside this chunk: zero-copy views. Their headers are read through one
    // DataView over the chunk (made only when a header is there to read).
    const view =
      chunk.length - offset >= HEADER_LEN ? new DataView(buffer, byteOffset, chunk.length) : undefined;
    while (chunk.length - offset >= HEADER_LEN) {
      const header = this.checkHeader(view as DataView, offset);
      if (chunk.length - offset < header.len) {
        // The rest of this chunk starts a frame that later chunks complete.
        this.startAssembly(header, viewOf(chunk, offset));
        return out;
      }
      emit(attachBody(header, chunk, offset));
      offset += header.len;
    }

    if (offset < chunk.length) {
      copyInto(this.headBytes, viewOf(chunk, offset), 0);
      this.pendingBytes = chunk.length - offset;
    }
    return out;
  }

  /** Consumes from `chunk` into the pending frame; returns how many bytes were used. */
  private fillPending(chunk: Uint8Array, emit: (frame: Frame) => void): number {
    let used = 0;
    if (!this.header) {
      used = Math.min(HEADER_LEN - this.pendingBytes, chunk.length);
      copyInto(this.headBytes, viewOf(chunk, 0, used), this.pendingBytes);
      this.pendingBytes += used;
      if (this.pendingBytes < HEADER_LEN) return used;
      const header = this.checkHeader(this.headView, 0);
      this.startAssembly(header, this.headBytes);
    }
    const header = this.header as Frame;
    const take = Math.min(header.len - this.pendingBytes, chunk.length - used);
    this.append(viewOf(chunk, used, used + take));
    used += take;
    if (this.pendingBytes === header.len) {
      const bytes = plainView(this.assembly as Uint8Array);
      this.reset();
      emit(attachBody(header, bytes));
    }
    return used;
  }

  /** Begins assembling a frame whose validated header is at the start of `first`. */
  private startAssembly(header: Frame, first: Uint8Array): void {
    this.header = header;
    this.assembly = undefined;
    this.pendingBytes = 0;
    this.append(first);
  }

  private append(bytes: Uint8Array): void {
    const need = this.pendingBytes + bytes.length;
    const len = (this.header as FrameHeader).len;
    if (!this.assembly || this.assembly.length < need) {
      const capacity = Math.min(len, Math.max(need, 2 * (this.assembly?.length ?? 0), MIN_ASSEMBLY));
      const grown = allocBytes(capacity);
      if (this.assembly) copyInto(grown, this.assembly.subarray(0, this.pendingBytes), 0);
      this.assembly = grown;
    }
    copyInto(this.assembly, bytes, this.pendingBytes);
    this.pendingBytes = need;
  }

  private reset(): void {
    this.assembly = undefined;
    this.pendingBytes = 0;
    this.header = undefined;
  }

  private checkHeader(view: DataView, at: number): Frame {
    const header = readFrameHeadFrom(view, at);
    try {
      validateHeader(header, this.limits);
    } catch (err) {
      if (err instanceof FrameHeaderError) {
        this.failed = err;
        this.reset();
      }
      throw err;
    }
    return header;
  }
}

/**
 * A split frame up to this size gets its whole (validated) length at once: one allocation and
 * one copy per frame. Larger ones grow geometrically from here, so a peer that announces a
 * 1 MiB frame and trickles it costs memory in proportion to what it actually sent. A 64 KiB
 * chunk of a body plus its header (and a START's meta) fits, so streamed bodies never regrow.
 */
const MIN_ASSEMBLY = 64 * 1024 + 4 * 1024;

function plainView(bytes: Uint8Array): Uint8Array {
  return Object.getPrototypeOf(bytes) === Uint8Array.prototype
    ? bytes
    : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}
