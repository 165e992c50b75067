import { type FileHandle, open } from "node:fs/promises";

interface Entry {
  file: Promise<FileHandle>;
  users: number;
  /** Out of the cache: closed once its last user lets go. */
  evicted: boolean;
}

/** A file shared by its readers; `release()` once, when done with it. */
export interface SharedFile {
  file: FileHandle;
  release(): void;
}

/**
 * Open files of recently read objects, shared by concurrent readers, as nginx's
 * open_file_cache keeps them. Objects never change once stored, so a handle stays good until
 * the engine evicts it (quarantine). Under load each open(2) and close(2) waited in the thread
 * pool behind other reads, so skipping them brings a hot object's first byte closer.
 */
export class OpenFiles {
  /** Map order is recency: the oldest unused handles are closed first past the bound. */
  private readonly entries = new Map<string, Entry>();
  /** False once closed: handles then serve the reader that opened them only. */
  private caching = true;

  constructor(private readonly maxIdle: number) {}

  /** The open file at `path`, or undefined when there is none. */
  async acquire(path: string): Promise<SharedFile | undefined> {
    let held = this.entries.get(path);
    if (held) {
      this.entries.delete(path);
      this.entries.set(path, held);
      held.users++;
    } else {
      held = { file: open(path, "r"), users: 1, evicted: !this.caching };
      if (this.caching) {
        this.entries.set(path, held);
        this.closeIdleOverBound();
      }
    }
    let file: FileHandle;
    try {
      file = await held.file;
    } catch (error) {
      held.users--;
      if (this.entries.get(path) === held) this.entries.delete(path);
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") return undefined;
      throw error;
    }
    let released = false;
    return {
      file,
      release: () => {
        if (released) return;
        released = true;
        held.users--;
        if (held.evicted && held.users === 0) void closeQuietly(held.file);
        else this.closeIdleOverBound();
      },
    };
  }

  /** Drops `path`: its handle closes once no reader uses it. */
  evict(path: string): void {
    const entry = this.entries.get(path);
    if (!entry) return;
    this.entries.delete(path);
    void this.retire(entry);
  }

  /** Closes every handle not in use (resolves when they are), the rest as their readers finish; caches no more. */
  async close(): Promise<void> {
    this.caching = false;
    const closing = [...this.entries.values()].map((entry) => this.retire(entry));
    this.entries.clear();
    await Promise.all(closing);
  }

  /** Caches again after close() (the engine was opened again). */
  reopen(): void {
    this.caching = true;
  }

  private retire(entry: Entry): Promise<void> {
    entry.evicted = true;
    return entry.users === 0 ? closeQuietly(entry.file) : Promise.resolve();
  }

  private closeIdleOverBound(): void {
    if (this.entries.size <= this.maxIdle) return;
    for (const [path, entry] of this.entries) {
      if (this.entries.size <= this.maxIdle) return;
      if (entry.users > 0) continue;
      this.entries.delete(path);
      void this.retire(entry);
    }
  }
}

async function closeQuietly(file: Promise<FileHandle>): Promise<void> {
  try {
    await (await file).close();
  } catch {
    // It never opened, or is already closed: nothing to release.
  }
}
