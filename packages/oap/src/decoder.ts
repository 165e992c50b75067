import { HEADER_LEN } from "./constants.js";
import { FrameHeaderError } from "./errors.js";
import { type Frame, frameFromValidated } from "./frame.js";
import {
  DEFAULT_HEADER_LIMITS,
  type FrameHeader,
  type HeaderLimits,
  readHeader,
  validateHeader,
} from "./header.js";

/**
 * Incremental decoder for an OAP/1 byte stream.
 *
 * - Partial and coalesced reads at any split point yield the same frames.
 * - The header is validated as soon as its 38 bytes are present, before any body byte
 *   is kept, so a hostile length never causes buffering or allocation.
 * - A frame that lies inside one received chunk is yielded as a view (no copy); only a
 *   frame split across chunks is assembled, into a buffer of its validated length.
 * - What it holds between calls is always less than one frame (< max_frame).
 * - After a FrameHeaderError the decoder is poisoned: the stream cannot be resynchronised.
 */
export class FrameDecoder {
  private readonly limits: HeaderLimits;
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private header: FrameHeader | undefined;
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
  push(chunk: Uint8Array, onFrame?: (frame: Frame) => void): Frame[] {
    if (this.failed) throw this.failed;
    const out: Frame[] = [];
    const emit = onFrame ?? ((f: Frame) => out.push(f));
    let offset = 0;

    // Finish a frame that started in an earlier chunk.
    if (this.pendingBytes > 0) {
      offset = this.fillPending(chunk, emit);
      if (this.pendingBytes > 0) return out;
    }

    // Whole frames inside this chunk: zero-copy views.
    while (chunk.byteLength - offset >= HEADER_LEN) {
      const header = this.checkHeader(chunk, offset);
      if (chunk.byteLength - offset < header.len) break;
      emit(frameFromValidated(header, chunk.subarray(offset, offset + header.len)));
      offset += header.len;
    }

    if (offset < chunk.byteLength) {
      const rest = chunk.subarray(offset);
      this.pending.push(rest);
      this.pendingBytes += rest.byteLength;
      if (this.pendingBytes >= HEADER_LEN && !this.header) this.header = this.checkHeader(rest, 0);
    }
    return out;
  }

  /** Consumes from `chunk` into the pending frame; returns how many bytes were used. */
  private fillPending(chunk: Uint8Array, emit: (frame: Frame) => void): number {
    let used = 0;
    if (!this.header) {
      const need = HEADER_LEN - this.pendingBytes;
      const take = Math.min(need, chunk.byteLength);
      this.pending.push(chunk.subarray(0, take));
      this.pendingBytes += take;
      used = take;
      if (this.pendingBytes < HEADER_LEN) return used;
      this.pending = [concat(this.pending, HEADER_LEN)];
      this.header = this.checkHeader(this.pending[0] as Uint8Array, 0);
    }
    const header = this.header;
    const take = Math.min(header.len - this.pendingBytes, chunk.byteLength - used);
    this.pending.push(chunk.subarray(used, used + take));
    this.pendingBytes += take;
    used += take;
    if (this.pendingBytes === header.len) {
      const bytes = concat(this.pending, header.len);
      this.pending = [];
      this.pendingBytes = 0;
      this.header = undefined;
      emit(frameFromValidated(header, bytes));
    }
    return used;
  }

  private checkHeader(buf: Uint8Array, at: number): FrameHeader {
    const header = readHeader(buf, at);
    try {
      validateHeader(header, this.limits);
    } catch (err) {
      if (err instanceof FrameHeaderError) {
        this.failed = err;
        this.pending = [];
        this.pendingBytes = 0;
      }
      throw err;
    }
    return header;
  }
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1 && parts[0]?.byteLength === total) return parts[0];
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}
