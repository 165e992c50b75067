import { randomBytes } from "node:crypto";
import { createServer, request as httpRequest, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import {
  DeleteBucketCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type SwiftCluster, startSwiftCluster } from "../../../testing/support/swift-cluster.js";
import { ConfigError, loadConfig } from "../src/config/index.js";
import type { StorageEngine } from "../src/storage/engine.js";
import { createStorageEngine } from "../src/storage/index.js";
import { S3Engine } from "../src/storage/s3-engine.js";

const KiB = 1024;
const MiB = 1024 * KiB;

// What is particular to the s3 engine, on a real Swift cluster; storage-engines.test.ts runs
// the cases every engine shares.
let swift: SwiftCluster;
let raw: S3Client;
let buckets = 0;
const opened: StorageEngine[] = [];

beforeAll(async () => {
  swift = await startSwiftCluster();
  raw = new S3Client({
    endpoint: swift.endpoint,
    region: swift.region,
    credentials: swift,
    forcePathStyle: true,
  });
}, 360_000); // may wait for other test files' Swift clusters to start first
afterAll(async () => {
  raw?.destroy();
  await swift?.stop();
});
afterEach(async () => {
  for (const engine of opened.splice(0)) await engine.close();
});

async function openEngine(): Promise<{ engine: S3Engine; bucket: string }> {
  const bucket = `s3-case-${++buckets}`;
  const engine = new S3Engine({ ...swift, bucket, forcePathStyle: true });
  await engine.open();
  opened.push(engine);
  return { engine, bucket };
}

/** An HTTP proxy to `target` on 127.0.0.1 that counts the requests `counted` picks out. */
async function countingProxy(
  target: string,
  counted: (req: IncomingMessage) => boolean,
): Promise<{ url: string; count: () => number; close: () => Promise<void> }> {
  let count = 0;
  const to = new URL(target);
  const server = createServer((req, res) => {
    if (counted(req)) count++;
    // Headers go on unchanged (Host included: the request was signed for it).
    const upstream = httpRequest(
      { host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers },
      (reply) => {
        res.writeHead(reply.statusCode ?? 502, reply.headers);
        reply.pipe(res);
      },
    );
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    count: () => count,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Writes `bytes` in 1 MiB pieces, as a PUT's body arrives, and commits them under `digest`. */
async function store(
  engine: StorageEngine,
  namespace: string,
  digest: string,
  bytes: Buffer,
): Promise<boolean> {
  const pending = await engine.create(namespace);
  try {
    for (let at = 0; at < bytes.length; at += MiB) await pending.write(bytes.subarray(at, at + MiB));
    return await pending.commit(digest);
  } finally {
    await pending.abort();
  }
}

async function readSpan(
  engine: StorageEngine,
  namespace: string,
  digest: string,
  start: number,
  end: number,
) {
  const reader = await engine.openReader(namespace, digest);
  if (!reader) return undefined;
  const into = Buffer.alloc(512 * KiB);
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

/** Every key in the bucket, whatever its prefix (staging and quarantine included). */
async function allKeys(bucket: string): Promise<string[]> {
  const listed = await raw.send(new ListObjectsV2Command({ Bucket: bucket }));
  return (listed.Contents ?? []).map((entry) => entry.Key as string).sort();
}

/** The bucket's multipart uploads, once there is one (CreateMultipartUpload has answered). */
async function untilOneUpload(bucket: string) {
  for (let tries = 0; tries < 50; tries++) {
    const listed = await raw.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    if ((listed.Uploads ?? []).length > 0) return listed.Uploads ?? [];
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no multipart upload appeared in ${bucket}`);
}

/** Waits until an upload has `count` parts stored (its part upload has finished). */
async function untilParts(bucket: string, key: string, uploadId: string, count: number): Promise<void> {
  for (let tries = 0; tries < 100; tries++) {
    const listed = await raw.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
    if ((listed.Parts ?? []).length >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`upload ${key} did not reach ${count} parts`);
}

describe("the s3 storage engine on Swift", () => {
  it("round-trips a 20 MiB object sent as a multipart upload, byte-exact, whole and by range", async () => {
    const { engine, bucket } = await openEngine();
    const digest = "5a".repeat(32);
    const bytes = randomBytes(20 * MiB + 12_345);
    expect(await store(engine, "t1", digest, bytes)).toBe(true);
    expect(await engine.size("t1", digest)).toBe(bytes.length);
    // The staging object is gone once the object is at its address.
    expect(await allKeys(bucket)).toEqual([`t1/${digest}`]);
    for (const [start, end] of [
      [0, bytes.length],
      [8 * MiB - 3, 8 * MiB + 3],
      [17 * MiB + 1, bytes.length],
      [5, 70 * KiB],
    ] as const) {
      const got = await readSpan(engine, "t1", digest, start, end);
      expect(got?.equals(bytes.subarray(start, end)), `${start}-${end}`).toBe(true);
    }
    expect(await store(engine, "t1", digest, bytes)).toBe(false);
    expect(engine.totals()).toEqual({ objects: 1, bytes: bytes.length });
  });

  it("leaves nothing visible of an aborted PUT, multipart or not", async () => {
    const { engine, bucket } = await openEngine();
    for (const size of [100 * KiB, 19 * MiB]) {
      const pending = await engine.create("t1");
      for (let at = 0; at < size; at += MiB) await pending.write(randomBytes(Math.min(MiB, size - at)));
      await pending.abort();
    }
    expect(await allKeys(bucket)).toEqual([]);
    const uploads = await raw.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    expect(uploads.Uploads ?? []).toEqual([]);
    expect(engine.totals()).toEqual({ objects: 0, bytes: 0 });
  });

  it("drops at open the upload of a PUT that never ended, once it is older than staleStagingMs", async () => {
    const { engine, bucket } = await openEngine();
    // A node stops mid-PUT: one 8 MiB part uploaded, neither committed nor aborted.
    const pending = await engine.create("t1");
    for (let at = 0; at < 9 * MiB; at += MiB) await pending.write(randomBytes(MiB));
    const [upload] = await untilOneUpload(bucket);
    expect(upload?.Key).toMatch(/^staging\//);
    await untilParts(bucket, upload?.Key as string, upload?.UploadId as string, 1);
    // Another node opening the bucket leaves a young upload alone: it may be in progress.
    const young = new S3Engine({ ...swift, bucket, forcePathStyle: true, staleStagingMs: 3_600_000 });
    await young.open();
    opened.push(young);
    expect(await untilOneUpload(bucket)).toHaveLength(1);
    const later = new S3Engine({ ...swift, bucket, forcePathStyle: true, staleStagingMs: 0 });
    await later.open();
    opened.push(later);
    const uploads = await raw.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    expect(uploads.Uploads ?? []).toEqual([]);
    expect(await allKeys(bucket)).toEqual([]);
  });

  it("moves a quarantined object under quarantine/ and its outboard away with it", async () => {
    const { engine, bucket } = await openEngine();
    const digest = "6b".repeat(32);
    const pending = await engine.create("public");
    await pending.write(randomBytes(200 * KiB));
    expect(await pending.commit(digest, randomBytes(128))).toBe(true);
    expect(await allKeys(bucket)).toEqual([`public/${digest}`, `public/${digest}.outboard`]);
    await engine.quarantine("public", digest);
    const keys = await allKeys(bucket);
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(new RegExp(`^quarantine/public/${digest}\\.`));
  });

  it("keeps objects readable and writable with one of three storage nodes killed", async () => {
    const { engine } = await openEngine();
    const before = randomBytes(9 * MiB + 7);
    const during = randomBytes(3 * MiB + 1);
    const [a, b] = ["7c".repeat(32), "8d".repeat(32)];
    expect(await store(engine, "t1", a, before)).toBe(true);
    await swift.killStorageNode(1);
    try {
      expect((await readSpan(engine, "t1", a, 0, before.length))?.equals(before)).toBe(true);
      expect(await store(engine, "t1", b, during)).toBe(true);
      expect((await readSpan(engine, "t1", b, 0, during.length))?.equals(during)).toBe(true);
    } finally {
      await swift.restartStorageNode(1);
    }
    expect((await readSpan(engine, "t1", a, 0, before.length))?.equals(before)).toBe(true);
    expect((await readSpan(engine, "t1", b, 0, during.length))?.equals(during)).toBe(true);
  });

  it("is what storage.engine = s3 opens, configured through the environment", async () => {
    const bucket = `s3-config-${++buckets}`;
    const config = loadConfig({
      env: {
        OMNIGATE_STORAGE_ENGINE: "s3",
        OMNIGATE_STORAGE_S3_ENDPOINT: swift.endpoint,
        OMNIGATE_STORAGE_S3_BUCKET: bucket,
        OMNIGATE_STORAGE_S3_ACCESS_KEY_ID: swift.accessKeyId,
        OMNIGATE_STORAGE_S3_SECRET_ACCESS_KEY: swift.secretAccessKey,
      },
    });
    const engine = createStorageEngine(config);
    expect(engine.kind).toBe("s3");
    await engine.open();
    opened.push(engine);
    const bytes = randomBytes(1000);
    expect(await store(engine, "t1", "9e".repeat(32), bytes)).toBe(true);
    expect(await allKeys(bucket)).toEqual([`t1/${"9e".repeat(32)}`]);
  });

  it("refuses storage.engine = s3 without an endpoint, and says which key is missing", () => {
    expect(() => loadConfig({ env: { OMNIGATE_STORAGE_ENGINE: "s3" } })).toThrow(/storage\.s3_endpoint/);
    // A config made in code, past the loader's checks, is refused when the engine is made.
    const config = { ...loadConfig({ env: {} }), storageEngine: "s3" as const };
    expect(() => createStorageEngine(config)).toThrow(ConfigError);
    expect(() => createStorageEngine(config)).toThrow(/storage\.s3_endpoint/);
  });

  it("resumes a GET body that S3 closed while its reader was held back past the idle timeout", async () => {
    const bucket = `s3-case-${++buckets}`;
    const engine = new S3Engine({ ...swift, bucket, forcePathStyle: true, idleTimeoutMs: 300 });
    await engine.open();
    opened.push(engine);
    const bytes = randomBytes(3 * MiB + 7);
    expect(await store(engine, "t1", "ab".repeat(32), bytes)).toBe(true);
    const reader = await engine.openReader("t1", "ab".repeat(32));
    if (!reader) throw new Error("the object just stored is missing");
    const first = Buffer.alloc(64 * KiB);
    expect(await reader.read(first, 0)).toBe(first.length);
    // A slow client: nothing is read for longer than the idle timeout, so the connection closes.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const rest = Buffer.alloc(bytes.length - first.length);
    let at = 0;
    while (at < rest.length) {
      const read = await reader.read(rest.subarray(at), first.length + at);
      if (read === 0) break;
      at += read;
    }
    await reader.close();
    expect(Buffer.concat([first, rest.subarray(0, at)]).equals(bytes)).toBe(true);
  });

  it("reads a bucket deleted under it as the store's failure, not as absent objects", async () => {
    const { engine, bucket } = await openEngine();
    const digest = "d".repeat(64);
    await raw.send(new DeleteBucketCommand({ Bucket: bucket }));
    // A GET looks the object up first (HeadObject, whose 404 is the same for both): the
    // engine asks HeadBucket, and a missing bucket is an error, not an absent object.
    await expect(engine.size("t0", digest)).rejects.toThrow(
      new RegExp(
        `s3 HeadObject of t0/${digest} failed: NoSuchBucket, HTTP 404, the bucket ${bucket} does not exist`,
      ),
    );
    // GetObject names the missing bucket itself; before, that read as "no such object" (404).
    await expect(engine.openReader("t0", digest)).rejects.toThrow(
      new RegExp(`s3 GetObject of t0/${digest} failed: NoSuchBucket, HTTP 404`),
    );
    await expect(engine.readOutboard("t0", digest)).rejects.toThrow(/NoSuchBucket, HTTP 404/);
    // A PUT cannot land either, and says why.
    await expect(store(engine, "t0", digest, randomBytes(1024))).rejects.toThrow(/NoSuchBucket/);
  });

  it("asks HeadBucket once for misses that come together, not once per miss", async () => {
    const bucket = `s3-case-${++buckets}`;
    // Between the engine and Swift, a proxy that counts the engine's HeadBuckets.
    const proxy = await countingProxy(
      swift.endpoint,
      (req) => req.method === "HEAD" && /^\/[^/]+\/?$/.test(new URL(req.url ?? "/", "http://proxy").pathname),
    );
    try {
      const engine = new S3Engine({ ...swift, endpoint: proxy.url, bucket, forcePathStyle: true });
      await engine.open();
      opened.push(engine);
      // open() found the bucket, which vouches for it for 1 s: let that pass.
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      const before = proxy.count();
      const digests = Array.from({ length: 16 }, (_, i) => i.toString(16).padStart(64, "e"));
      const started = Date.now();
      const sizes = await Promise.all(digests.map((digest) => engine.size("t0", digest)));
      const elapsedMs = Date.now() - started;
      expect(sizes).toEqual(digests.map(() => undefined));
      // One check for all of them: in flight, it is shared; answered, it vouches for 1 s (a
      // burst that outlasts that on a slow machine may ask once per second it lasts).
      const asked = proxy.count() - before;
      expect(asked).toBeGreaterThanOrEqual(1);
      expect(asked).toBeLessThanOrEqual(1 + Math.floor(elapsedMs / 1000));
    } finally {
      await proxy.close();
    }
  });

  it("surfaces a failure of the S3 side as an error naming the call and the key", async () => {
    const engine = new S3Engine({
      ...swift,
      secretAccessKey: "wrong",
      bucket: "s3-denied",
      forcePathStyle: true,
    });
    opened.push(engine);
    await expect(engine.open()).rejects.toThrow(/s3 HeadBucket of s3-denied failed: .*HTTP 403/);
  });
});
