import { randomBytes } from "node:crypto";
import { type FileHandle, link, mkdir, open, readdir, rename, rm, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import type { PendingObject, StorageEngine } from "./engine.js";

/**
 * Objects as files under `root`: `objects/<namespace>/<hex 0-2>/<hex 2-4>/<hex>`, so no
 * directory grows past 65,536 shards of entries. A PUT writes to `tmp/` and is published with
 * link(2), which fails if the object exists: two writers of the same bytes never race, and a
 * reader sees a whole object or none. Corrupt objects are moved to `quarantine/`.
 */
/** Chunks read from disk at once after the first (8 × 64 KiB = 512 KiB by default). */
const READ_BLOCK_CHUNKS = 8;

export class FsEngine implements StorageEngine {
  readonly kind = "fs";
  private objects = 0;
  private bytes = 0;

  constructor(private readonly root: string) {}

  private get objectsDir(): string {
    return join(this.root, "objects");
  }

  private get tmpDir(): string {
    return join(this.root, "tmp");
  }

  async open(): Promise<void> {
    // Temp files of writes a previous run did not finish are garbage.
    await rm(this.tmpDir, { recursive: true, force: true });
    await mkdir(this.tmpDir, { recursive: true });
    await mkdir(this.objectsDir, { recursive: true });
    await mkdir(join(this.root, "quarantine"), { recursive: true });
    const counted = await countFiles(this.objectsDir);
    this.objects = counted.files;
    this.bytes = counted.bytes;
  }

  async close(): Promise<void> {}

  async size(namespace: string, digest: string): Promise<number | undefined> {
    try {
      const info = await stat(this.pathOf(namespace, digest));
      return info.isFile() ? info.size : undefined;
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
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
      commit: async (digest) => {
        await file.datasync();
        await closeFile();
        const target = this.pathOf(namespace, digest);
        await mkdir(join(target, ".."), { recursive: true });
        try {
          await link(tmp, target);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
          await unlink(tmp);
          return false;
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

  async *read(
    namespace: string,
    digest: string,
    start: number,
    end: number,
    chunkBytes: number,
  ): AsyncIterable<Uint8Array> {
    let file: FileHandle;
    try {
      file = await open(this.pathOf(namespace, digest), "r");
    } catch (error) {
      if (isMissing(error)) return;
      throw error;
    }
    try {
      // The first read is one chunk, so the first byte leaves soon; after it, blocks of
      // READ_BLOCK_CHUNKS: one thread-pool round trip per 512 KiB instead of per chunk, which
      // was most of what the node spent per byte beyond TLS. The OS reads ahead on disk.
      let blockBytes = chunkBytes;
      for (let at = start; at < end; ) {
        // A fresh block per read: the frame writer may still hold chunks of the previous one.
        const block = Buffer.allocUnsafe(Math.min(blockBytes, end - at));
        const { bytesRead } = await file.read(block, 0, block.byteLength, at);
        if (bytesRead === 0) return;
        for (let i = 0; i < bytesRead; i += chunkBytes) {
          yield block.subarray(i, Math.min(i + chunkBytes, bytesRead));
        }
        at += bytesRead;
        blockBytes = chunkBytes * READ_BLOCK_CHUNKS;
      }
    } finally {
      await file.close();
    }
  }

  async quarantine(namespace: string, digest: string): Promise<void> {
    const path = this.pathOf(namespace, digest);
    const size = await this.size(namespace, digest);
    if (size === undefined) return;
    try {
      await rename(path, join(this.root, "quarantine", `${namespace}-${digest}-${Date.now()}`));
    } catch (error) {
      if (isMissing(error)) return;
      throw error;
    }
    this.objects--;
    this.bytes -= size;
  }

  totals(): { objects: number; bytes: number } {
    return { objects: this.objects, bytes: this.bytes };
  }

  /** Where an object's file is (tests damage objects on disk through it). */
  pathOf(namespace: string, digest: string): string {
    return join(this.objectsDir, namespace, digest.slice(0, 2), digest.slice(2, 4), digest);
  }
}

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
