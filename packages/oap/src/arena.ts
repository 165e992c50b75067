import { allocBytes } from "./bytes.js";
import { dataViewOf } from "./header.js";

/** Frames are encoded straight into arenas of this size: no per-frame header buffer or copy. */
export const ARENA_SIZE = 64 * 1024;
/** Arenas kept for reuse, across all writers of the process (4 MiB). */
const MAX_SPARE = 64;

const spare: Arena[] = [];

/**
 * Bytes a FrameWriter encodes frames into, handed to the socket region by region, and reused
 * once it is full and the socket has written every region of it. A fresh arena per 64 KiB of
 * frames cost an ArrayBuffer allocation, which V8 counts as external memory towards its next
 * full collection, and header writes into memory no cache had seen; a reused arena is warm.
 */
export class Arena {
  /** The bytes as a DataView, for the headers. */
  readonly view: DataView;
  /** Regions handed to the socket and not written yet. */
  private held = 0;
  /** Full: no more frames go into it. */
  private retired = false;

  private constructor(readonly bytes: Buffer) {
    this.view = dataViewOf(bytes);
  }

  /** An arena of at least `size` bytes: a spare one when `size` fits the usual size. */
  static take(size = ARENA_SIZE): Arena {
    if (size <= ARENA_SIZE) {
      const reused = spare.pop();
      if (reused) {
        reused.retired = false;
        return reused;
      }
    }
    return new Arena(allocBytes(Math.max(ARENA_SIZE, size)));
  }

  /** A region goes to the socket; call the returned function once the socket is done with it. */
  hold(): () => void {
    this.held++;
    return this.released;
  }

  /** No more frames go into it: it becomes a spare once the socket is done with its regions. */
  retire(): void {
    this.retired = true;
    if (this.held === 0) this.recycle();
  }

  private readonly released = (): void => {
    if (this.held === 0) return; // a callback the socket ran twice must not free a region in use
    if (--this.held === 0 && this.retired) this.recycle();
  };

  private recycle(): void {
    // Oversized arenas (one frame larger than the usual size) are left to the GC.
    if (this.bytes.length === ARENA_SIZE && spare.length < MAX_SPARE) spare.push(this);
  }
}
