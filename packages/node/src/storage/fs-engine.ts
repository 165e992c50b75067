import { randomBytes } from "node:crypto";
import type { Dirent } from "node:fs";
import {
  type FileHandle,
  link,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  unlink,
  writeFile,
} from "node:fs/promises";
import { join } from "node:path";
import type { ObjectReader, PendingObject, StorageEngine } from "./engine.js";
import { OpenFiles } from "./open-files.js";
import { SizeCache } from "./size-cache.js";

/**
 * Objects as files under `root`: `objects/<namespace>/<hex 0-2>/<hex 2-4>/<hex>`, so no
 * directory grows past 65,536 shards of entries. A PUT writes to `tmp/` and is published with
 * link(2), which fails if the object exists: two writers of the same bytes never race, and a
 * reader sees a whole object or none. Corrupt objects are moved to `quarantine/`. Outboards
 * live in a parallel tree, `outboards/<namespace>/…/<hex>`, written before their object is
 * published (so a visible object's outboard is complete) and removed with it.
 */
export class FsEngine implements StorageEngine {
  readonly kind = "fs";
  private objects = 0;
  private bytes = 0;
  /** Sizes and absences looked up lately (about 100 bytes each). */
  private readonly sizes = new SizeCache(100_000);
  /** Files of objects read lately, kept open for the next readers. */
  private readonly openFiles = new OpenFiles(256);
  /** Commits and quarantines so far; a lookup that overlapped one is not cached. */
  private changes = 0;

  constructor(private readonly root: string) {}

  private get objectsDir(): string {
    return join(this.root, "objects");
  }

  private get tmpDir(): string {
    return join(this.root, "tmp");
  }

  async open(): Promise<void> {
    this.openFiles.reopen();
    // Temp files of writes a previous run did not finish are garbage.
    await rm(this.tmpDir, { recursive: true, force: true });
    await mkdir(this.tmpDir, { recursive: true });
    await mkdir(this.objectsDir, { recursive: true });
    await mkdir(join(this.root, "quarantine"), { recursive: true });
    const counted = await countFiles(this.objectsDir);
    this.objects = counted.files;
    this.bytes = counted.bytes;
  }

  async close(): Promise<void> {
    await this.openFiles.close();
  }

  async size(namespace: string, digest: string): Promise<number | undefined> {
    const cached = this.sizes.get(namespace, digest);
    if (cached !== "unknown") return cached;
    const changesBefore = this.changes;
    let size: number | undefined;
    try {
      const info = await stat(this.pathOf(namespace, digest));
      size = info.isFile() ? info.size : undefined;
    } catch (error) {
      if (!isMissing(error)) throw error;
    }
    // A commit or quarantine while stat ran may have made its answer stale: do not keep it.
    if (this.changes === changesBefore) this.sizes.set(namespace, digest, size);
    return size;
  }

  async create(namespace: string): Promise<PendingObject> {
    const tmp = join(this.tmpDir, `${Date.now()}-${randomBytes(8).toString("hex")}`);
    const file = await open(tmp, "wx", 0o600);
    let written = 0;
    let closed = false;
    const closeFile = async () => {
      if (closed) return;
      closed = true;
      await file.close();
    };
    return {
      write: async (chunk) => {
        await writeAll(file, chunk);
        written += chunk.byteLength;
      },
      commit: async (digest, outboard) => {
        await file.datasync();
        await closeFile();
        if (outboard && outboard.byteLength > 0) await this.writeOutboard(namespace, digest, outboard);
        const target = this.pathOf(namespace, digest);
        await mkdir(join(target, ".."), { recursive: true });
        try {
          await link(tmp, target);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
          await unlink(tmp);
          return false;
        } finally {
          // Once linked, a lookup that ran meanwhile (and may have missed it) is stale.
          this.changed(namespace, digest);
        }
        await unlink(tmp);
        this.objects++;
        this.bytes += written;
        return true;
      },
      abort: async () => {
        await closeFile().catch(() => {});
        await rm(tmp, { force: true });
      },
    };
  }

  async openReader(namespace: string, digest: string): Promise<ObjectReader | undefined> {
    const shared = await this.openFiles.acquire(this.pathOf(namespace, digest));
    if (!shared) {
      this.sizes.forget(namespace, digest);
      return undefined;
    }
    const { file, release } = shared;
    return {
      read: async (into, position) => {
        let done = 0;
        // A regular file reads short only at its end; loop anyway, as read(2) allows it.
        while (done < into.byteLength) {
          const { bytesRead } = await file.read(into, done, into.byteLength - done, position + done);
          if (bytesRead === 0) break;
          done += bytesRead;
        }
        return done;
      },
      close: async () => release(),
    };
  }

  async *list(namespace: string): AsyncIterable<string> {
    const dir = join(this.objectsDir, namespace);
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true, recursive: true });
    } catch (error) {
      if (isMissing(error)) return;
      throw error;
    }
    for (const entry of entries) if (entry.isFile() && DIGEST.test(entry.name)) yield entry.name;
  }

  async readOutboard(namespace: string, digest: string): Promise<Uint8Array | undefined> {
    try {
      return await readFile(this.outboardPathOf(namespace, digest));
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  async writeOutboard(namespace: string, digest: string, outboard: Uint8Array): Promise<void> {
    const target = this.outboardPathOf(namespace, digest);
    const tmp = join(this.tmpDir, `ob-${Date.now()}-${randomBytes(8).toString("hex")}`);
    await writeFile(tmp, outboard, { mode: 0o600 });
    await mkdir(join(target, ".."), { recursive: true });
    // rename(2) replaces atomically: a reader sees the old whole outboard or the new one.
    await rename(tmp, target);
  }

  async quarantine(namespace: string, digest: string): Promise<void> {
    await rm(this.outboardPathOf(namespace, digest), { force: true });
    const path = this.pathOf(namespace, digest);
    const size = await this.size(namespace, digest);
    this.changed(namespace, digest);
    if (size === undefined) return;
    try {
      await rename(path, join(this.root, "quarantine", `${namespace}-${digest}-${Date.now()}`));
    } catch (error) {
      if (isMissing(error)) return;
      throw error;
    } finally {
      this.changed(namespace, digest);
    }
    this.objects--;
    this.bytes -= size;
  }

  /**
   * An object is being added or removed: what the caches know of it, or learn meanwhile, is
   * stale. Called before and after the change, so a lookup or open that overlapped it is
   * dropped too (a handle opened during a quarantine's rename is the quarantined file).
   */
  private changed(namespace: string, digest: string): void {
    this.changes++;
    this.sizes.forget(namespace, digest);
    this.openFiles.evict(this.pathOf(namespace, digest));
  }

  totals(): { objects: number; bytes: number } {
    return { objects: this.objects, bytes: this.bytes };
  }

  private outboardPathOf(namespace: string, digest: string): string {
    return join(this.root, "outboards", namespace, digest.slice(0, 2), digest.slice(2, 4), digest);
  }

  /** Where an object's file is (tests damage objects on disk through it). */
  pathOf(namespace: string, digest: string): string {
    return join(this.objectsDir, namespace, digest.slice(0, 2), digest.slice(2, 4), digest);
  }
}

const DIGEST = /^[0-9a-f]{64}$/;

async function writeAll(file: FileHandle, chunk: Uint8Array): Promise<void> {
  for (let done = 0; done < chunk.byteLength; ) {
    const { bytesWritten } = await file.write(chunk, done, chunk.byteLength - done);
    done += bytesWritten;
  }
}

async function countFiles(dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    files++;
    bytes += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return { files, bytes };
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === "ENOENT" || code === "ENOTDIR";
}
