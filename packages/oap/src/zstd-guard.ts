import { createRequire } from "node:module";
import type * as ZstdBinding from "zstd-napi/binding.js";
import { OapError } from "./errors.js";

// zstd-napi's binding is CommonJS loaded by a computed path, so ESM named imports cannot see it.
const zstd = createRequire(import.meta.url)("zstd-napi/binding.js") as typeof ZstdBinding;

/** Bounds on inflating one COMP body (specs/oap-1.md §10). */
export interface InflateLimits {
  /** Hard cap on decompressed bytes for one body; exceeding it → 413 `decompress_cap`. */
  maxOutput: number;
  /** Ceiling on decompressed ÷ compressed bytes; exceeding it → 413 `ratio_cap`. */
  maxRatio: number;
  /** Output below this many bytes is never refused for its ratio (tiny bodies compress well). */
  ratioGraceBytes: number;
}

export const DEFAULT_INFLATE_LIMITS: InflateLimits = {
  maxOutput: 8 * 1024 * 1024,
  maxRatio: 10,
  ratioGraceBytes: 64 * 1024,
};

/** The decoder writes into this fixed buffer and nothing else; kept bytes are copied out of it. */
const SCRATCH_BYTES = 128 * 1024;
/** zstd's own bounds on windowLog (ZSTD_WINDOWLOG_ABSOLUTEMIN and the 64-bit max for decoding). */
const MIN_WINDOW_LOG = 10;
const MAX_WINDOW_LOG = 27;

/**
 * The largest window a frame may ask for: no body may produce more than maxOutput bytes, so
 * no window beyond that is ever needed, and a frame declaring one is refused before the
 * decoder allocates it.
 */
export function windowLogFor(maxOutput: number): number {
  const needed = Math.ceil(Math.log2(Math.max(maxOutput, 1)));
  return Math.min(MAX_WINDOW_LOG, Math.max(MIN_WINDOW_LOG, needed));
}

/**
 * Inflates one zstd body, pushed in pieces as frames arrive, with a hard output cap and a
 * ratio cap. It uses only the streaming decoder into a fixed scratch buffer and never sizes
 * anything from the frame's declared content size, so a bomb costs at most the cap.
 */
export class BoundedInflater {
  private readonly dctx = new zstd.DCtx();
  private readonly scratch: Buffer;
  private inputBytes = 0;
  private outputBytes = 0;
  /** zstd's hint: 0 once a frame is complete and flushed. */
  private pending = 0;
  private failed: OapError | undefined;

  constructor(private readonly limits: InflateLimits = DEFAULT_INFLATE_LIMITS) {
    this.dctx.setParameter(zstd.DParameter.windowLogMax, windowLogFor(limits.maxOutput));
    this.scratch = Buffer.allocUnsafe(Math.min(SCRATCH_BYTES, Math.max(limits.maxOutput, 1)));
  }

  /** Compressed bytes taken so far. */
  get compressedBytes(): number {
    return this.inputBytes;
  }

  /** Decompressed bytes produced so far. */
  get decompressedBytes(): number {
    return this.outputBytes;
  }

  /**
   * Inflates `input` and returns what it decompressed to (copies, safe to keep). Throws an
   * OapError (413 `decompress_cap` / `ratio_cap`, 400 `bad_compression` for data that is not zstd)
   * the moment a limit is crossed; after that every call throws it again.
   */
  push(input: Uint8Array): Uint8Array[] {
    if (this.failed) throw this.failed;
    const out: Uint8Array[] = [];
    let offset = 0;
    let scratchFull = false;
    // Loop while input remains, or while the last call filled the scratch (more may be buffered).
    while (offset < input.length || scratchFull) {
      let result: [number, number, number];
      try {
        result = this.dctx.decompressStream(this.scratch, input.subarray(offset));
      } catch (err) {
        throw this.fail(corruptOrTooLarge(err));
      }
      const [hint, produced, consumed] = result;
      offset += consumed;
      this.inputBytes += consumed;
      // A call that did nothing asks for the next frame's header even after a complete frame.
      if (produced > 0 || consumed > 0) this.pending = hint;
      scratchFull = produced === this.scratch.length;
      if (produced > 0) {
        this.check(this.outputBytes + produced);
        this.outputBytes += produced;
        out.push(Buffer.from(this.scratch.subarray(0, produced)));
      }
      if (produced === 0 && consumed === 0) break;
    }
    return out;
  }

  /** The body ended: throws 400 `bad_compression` if the last zstd frame is incomplete. */
  finish(): void {
    if (this.failed) throw this.failed;
    if (this.pending !== 0) {
      throw this.fail(new OapError("bad_compression", "the COMP body ends inside a zstd frame"));
    }
  }

  private check(total: number): void {
    const { maxOutput, maxRatio, ratioGraceBytes } = this.limits;
    if (total > maxOutput) {
      throw this.fail(
        new OapError("decompress_cap", `the COMP body inflates beyond the ${maxOutput}-byte cap`),
      );
    }
    if (total > ratioGraceBytes && total > maxRatio * Math.max(this.inputBytes, 1)) {
      throw this.fail(new OapError("ratio_cap", `the COMP body inflates more than ${maxRatio}:1`));
    }
  }

  private fail(err: OapError): OapError {
    this.failed = err;
    return err;
  }
}

/** zstd refuses a window above windowLogMax as "too much memory": that is the output cap. */
function corruptOrTooLarge(err: unknown): OapError {
  const message = err instanceof Error ? err.message : String(err);
  if (/memory|window/i.test(message)) {
    return new OapError("decompress_cap", "the COMP body declares a window beyond the output cap");
  }
  return new OapError("bad_compression", "the COMP body is not valid zstd");
}

/** One compression context for the process: making one per body costs more than compressing 16 KiB. */
let sharedCctx: InstanceType<typeof zstd.CCtx> | undefined;

/** Compresses a body as one zstd frame (what a client sends with COMP). */
export function compressBody(body: Uint8Array, level = 3): Uint8Array {
  sharedCctx ??= new zstd.CCtx();
  const cctx = sharedCctx;
  const dst = Buffer.allocUnsafe(zstd.compressBound(body.length));
  const written = cctx.compress(dst, body, level);
  return dst.subarray(0, written);
}
