import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type SwiftCluster, startSwiftCluster } from "../../../testing/support/swift-cluster.js";
import { tempDir } from "../../../testing/support/temp-dir.js";
import type { StorageEngine } from "../src/storage/engine.js";
import { FsEngine } from "../src/storage/fs-engine.js";
import { MemoryEngine } from "../src/storage/memory-engine.js";
import { S3Engine } from "../src/storage/s3-engine.js";

const KiB = 1024;
const CHUNK = 64 * KiB;
const dirs: Array<{ remove: () => void }> = [];
const opened: StorageEngine[] = [];
// The s3 engine runs against a real OpenStack Swift cluster with its S3 layer (Debian
// packages), started for the s3 cases only.
let swift: SwiftCluster | undefined;
let buckets = 0;
afterEach(async () => {
  // Closing releases the files the fs engine keeps open.
  for (const engine of opened.splice(0)) await engine.close();
  for (const d of dirs.splice(0)) d.remove();
});

const engines: Record<string, () => Promise<{ engine: StorageEngine; root: string }>> = {
  fs: async () => {
    const d = tempDir();
    dirs.push(d);
    const engine = new FsEngine(d.path);
    await engine.open();
    opened.push(engine);
    return { engine, root: d.path };
  },
  memory: async () => {
    const engine = new MemoryEngine(64 * 1024 * KiB);
    await engine.open();
    return { engine, root: "" };
  },
  s3: async () => {
    if (!swift) throw new Error("the Swift cluster did not start (see beforeAll)");
    // A bucket per test: the cluster outlives each test, and every case starts from empty.
    const engine = new S3Engine({ ...swift, bucket: `engine-case-${++buckets}`, forcePathStyle: true });
    await engine.open();
    opened.push(engine);
    return { engine, root: "" };
  },
};

/** Stores `bytes` under `digest`, written in uneven pieces as a network PUT arrives. */
async function store(
  engine: StorageEngine,
  namespace: string,
  digest: string,
  bytes: Buffer,
): Promise<boolean> {
  const pending = await engine.create(namespace);
  for (let at = 0, piece = 1; at < bytes.length; at += piece, piece = (piece * 7 + 13_001) % (200 * KiB)) {
    await pending.write(bytes.subarray(at, at + piece));
  }
  return pending.commit(digest);
}

/** Bytes [start, end) read into one reused buffer of `bufferBytes`, as a GET reads blocks. */
async function readSpan(
  engine: StorageEngine,
  namespace: string,
  digest: string,
  start: number,
  end: number,
  bufferBytes = 3 * CHUNK + 5,
): Promise<Buffer | undefined> {
  const reader = await engine.openReader(namespace, digest);
  if (!reader) return undefined;
  const into = Buffer.alloc(bufferBytes);
  const parts: Buffer[] = [];
  try {
    for (let at = start; at < end; ) {
      const read = await reader.read(into.subarray(0, Math.min(into.length, end - at)), at);
      if (read === 0) break;
      parts.push(Buffer.from(into.subarray(0, read)));
      at += read;
    }
  } finally {
    await reader.close();
  }
  return Buffer.concat(parts);
}

describe.each(Object.keys(engines))("the %s storage engine", (kind) => {
  const open = engines[kind] as () => Promise<{ engine: StorageEngine; root: string }>;
  if (kind === "s3") {
    beforeAll(async () => {
      swift = await startSwiftCluster();
    }, 360_000); // may wait for other test files' Swift clusters to start first
    afterAll(async () => {
      await swift?.stop();
    });
  }
  const digest = "ab".repeat(32);

  it("reads any span by position into the caller's buffer, across the pieces it was written in", async () => {
    const { engine } = await open();
    const bytes = randomBytes(1300 * KiB + 17);
    expect(await store(engine, "t1", digest, bytes)).toBe(true);
    expect(await engine.size("t1", digest)).toBe(bytes.length);
    const spans: Array<[number, number]> = [
      [0, bytes.length],
      [0, 1],
      [CHUNK - 1, CHUNK + 1],
      [100_001, 900_003],
      [bytes.length - 5, bytes.length],
      [577 * KiB, bytes.length],
    ];
    for (const [start, end] of spans) {
      for (const bufferBytes of [4093, 3 * CHUNK + 5, 2 * bytes.length]) {
        const got = await readSpan(engine, "t1", digest, start, end, bufferBytes);
        expect(got?.equals(bytes.subarray(start, end)), `${start}-${end} by ${bufferBytes}`).toBe(true);
      }
    }
    const reader = await engine.openReader("t1", digest);
    // A read past the end gives what there is, then nothing.
    expect(await reader?.read(Buffer.alloc(100), bytes.length - 10)).toBe(10);
    expect(await reader?.read(Buffer.alloc(100), bytes.length)).toBe(0);
    await reader?.close();
  });

  it("keeps namespaces apart and reads nothing of a missing object", async () => {
    const { engine } = await open();
    await store(engine, "t1", digest, randomBytes(10));
    expect(await engine.size("t2", digest)).toBeUndefined();
    expect(await engine.openReader("t2", digest)).toBeUndefined();
    // Stored after it was looked up and missed, it is found (a remembered miss is dropped).
    await store(engine, "t2", digest, randomBytes(20));
    expect(await engine.size("t2", digest)).toBe(20);
    await engine.quarantine("t2", digest);
    expect(await engine.size("t2", digest)).toBeUndefined();
    expect(await engine.size("t1", digest)).toBe(10);
  });

  it("commits once per digest, drops aborted writes and counts what it holds", async () => {
    const { engine } = await open();
    const bytes = randomBytes(3 * CHUNK);
    expect(await store(engine, "t1", digest, bytes)).toBe(true);
    expect(await store(engine, "t1", digest, bytes)).toBe(false);
    const dropped = await engine.create("t1");
    await dropped.write(randomBytes(1000));
    await dropped.abort();
    await dropped.abort();
    expect(engine.totals()).toEqual({ objects: 1, bytes: bytes.length });
    await engine.quarantine("t1", digest);
    expect(await engine.size("t1", digest)).toBeUndefined();
    expect(engine.totals()).toEqual({ objects: 0, bytes: 0 });
  });

  it("keeps an object's outboard beside it, outside the counts, and drops it with a quarantine", async () => {
    const { engine } = await open();
    const bytes = randomBytes(3 * CHUNK);
    const outboard = randomBytes(2 * 64);
    const pending = await engine.create("public");
    await pending.write(bytes);
    expect(await pending.commit(digest, outboard)).toBe(true);
    expect(Buffer.from((await engine.readOutboard("public", digest)) ?? []).equals(outboard)).toBe(true);
    expect(await engine.readOutboard("t1", digest)).toBeUndefined();
    expect(engine.totals()).toEqual({ objects: 1, bytes: bytes.length });
    const replaced = randomBytes(2 * 64);
    await engine.writeOutboard("public", digest, replaced);
    expect(Buffer.from((await engine.readOutboard("public", digest)) ?? []).equals(replaced)).toBe(true);
    await engine.quarantine("public", digest);
    expect(await engine.readOutboard("public", digest)).toBeUndefined();
  });

  it("lists the digests a namespace holds, and nothing of the others", async () => {
    const { engine } = await open();
    const [a, b, c] = ["a1", "b2", "c3"].map((p) => p.repeat(32)) as [string, string, string];
    await store(engine, "public", a, randomBytes(10));
    await store(engine, "public", b, randomBytes(10));
    await store(engine, "t1", c, randomBytes(10));
    const listed: string[] = [];
    for await (const d of engine.list("public")) listed.push(d);
    expect(listed.sort()).toEqual([a, b]);
    const none: string[] = [];
    for await (const d of engine.list("t-nobody")) none.push(d);
    expect(none).toEqual([]);
  });
});

describe("the fs storage engine on disk", () => {
  it("never serves a quarantined file, even to a reader that opened it during the quarantine", async () => {
    const dir = tempDir();
    dirs.push(dir);
    const fs = new FsEngine(dir.path);
    await fs.open();
    opened.push(fs);
    const digest = "ef".repeat(32);
    const good = randomBytes(200 * KiB);
    await store(fs, "t1", digest, good);
    (await fs.openReader("t1", digest))?.close(); // its file is now kept open
    const bad = Buffer.from(good);
    bad[1000] = (bad[1000] as number) ^ 0xff;
    writeFileSync(fs.pathOf("t1", digest), bad);
    // A reader opens the object while it is being quarantined.
    const [, during] = await Promise.all([fs.quarantine("t1", digest), fs.openReader("t1", digest)]);
    await during?.close();
    // Stored again with the good bytes, it is read as such.
    expect(await store(fs, "t1", digest, good)).toBe(true);
    expect((await readSpan(fs, "t1", digest, 0, good.length))?.equals(good)).toBe(true);
  });

  it("reads short when the file is shorter than its size, and leaves no temp files", async () => {
    const dir = tempDir();
    dirs.push(dir);
    const root = dir.path;
    const fs = new FsEngine(root);
    await fs.open();
    opened.push(fs);
    const engine: StorageEngine = fs;
    const digest = "cd".repeat(32);
    const bytes = randomBytes(1000 * KiB);
    await store(engine, "t1", digest, bytes);
    truncateSync(fs.pathOf("t1", digest), 700 * KiB);
    const got = await readSpan(engine, "t1", digest, 0, bytes.length);
    expect(got?.equals(bytes.subarray(0, 700 * KiB))).toBe(true);
    expect(readdirSync(join(root, "tmp"))).toEqual([]);
    await fs.quarantine("t1", digest);
    expect(existsSync(fs.pathOf("t1", digest))).toBe(false);
    expect(readdirSync(join(root, "quarantine"))).toHaveLength(1);
  });
});
