import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import type { ObjectReader, PendingObject, StorageEngine } from "./engine.js";
import {
  isHeadMiss,
  isMissingBucket,
  isMissingKey,
  noSuchBucket,
  S3EngineError,
  s3Call,
  s3Failure,
} from "./s3-errors.js";
import { digestOfKey, objectKey, outboardKey, quarantineKey } from "./s3-keys.js";
import { S3PendingObject } from "./s3-pending.js";
import { S3ObjectReader } from "./s3-reader.js";
import { sweepStaging } from "./s3-staging-sweep.js";
import { SizeCache } from "./size-cache.js";

export interface S3EngineOptions {
  /** http(s)://host:port of the S3 API. */
  endpoint: string;
  bucket: string;
  region: string;
  /** With both keys unset the SDK's own chain applies (AWS_ACCESS_KEY_ID, …). */
  accessKeyId?: string;
  secretAccessKey?: string;
  /** http://endpoint/bucket/key rather than http://bucket.endpoint/key (Swift, MinIO, …). */
  forcePathStyle: boolean;
  /** Bytes per multipart part; an object up to this size is one PutObject (S3's minimum is 5 MiB). */
  partBytes?: number;
  /** Staged uploads older than this are taken as left by a crashed node and dropped at open (default 1 day). */
  staleStagingMs?: number;
  /**
   * A connection to S3 that moves no bytes for this long is closed (default 30 s): a store that
   * stopped answering fails the request (503, retried by clients) instead of holding it. A GET
   * body closed this way while its reader waited on a slow client resumes where it stopped.
   */
  idleTimeoutMs?: number;
}

/** How long connecting to S3 may take before the request fails. */
const CONNECT_TIMEOUT_MS = 5_000;
const DEFAULT_IDLE_TIMEOUT_MS = 30_000;
/** A copy of up to 5 GiB inside the store, at a slow 10 MB/s, is under 10 minutes. */
const COPY_IDLE_TIMEOUT_MS = 15 * 60_000;

const MiB = 1024 * 1024;
/** How long a HeadBucket that found the bucket vouches for it when a HeadObject finds nothing. */
const BUCKET_RECHECK_MS = 1_000;

/**
 * Objects in one S3 bucket (OpenStack Swift's s3api, Ceph RGW, MinIO, AWS): `<namespace>/<digest>`,
 * its outboard at `<namespace>/<digest>.outboard`, uploads in progress under `staging/`, and
 * quarantined objects under `quarantine/`. The store replicates; several nodes may share the
 * bucket. docs/storage.md has the layout and what it guarantees.
 */
export class S3Engine implements StorageEngine {
  readonly kind = "s3";
  private readonly client: S3Client;
  private readonly copier: S3Client;
  private readonly bucket: string;
  private readonly partBytes: number;
  private readonly staleStagingMs: number;
  /** Commits in flight in this node, by object key. */
  private readonly committing = new Map<string, Promise<boolean>>();
  /**
   * Sizes of objects seen here. An object never changes under its address, so a GET needs no
   * HEAD round trip to the store once its size is known; one quarantined by another node is
   * found gone when it is opened, and forgotten then.
   */
  private readonly sizes = new SizeCache(100_000);
  /** What this node stored (minus what it quarantined) since open: not the bucket's contents. */
  private counted = { objects: 0, bytes: 0 };
  /** When HeadBucket last found the bucket (see bucketStillThere). */
  private bucketSeenAt = 0;
  private bucketCheck: Promise<boolean> | undefined;

  constructor(options: S3EngineOptions) {
    this.bucket = options.bucket;
    this.partBytes = options.partBytes ?? 8 * MiB;
    this.staleStagingMs = options.staleStagingMs ?? 86_400_000;
    if (this.partBytes < 5 * MiB) throw new Error("S3 multipart parts are at least 5 MiB");
    this.client = s3Client(options, options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS);
    // A copy inside the store (a commit's CopyObject, CompleteMultipartUpload, a quarantine)
    // may answer only once gigabytes are copied, sending nothing meanwhile: a long idle timeout.
    this.copier = s3Client(options, COPY_IDLE_TIMEOUT_MS);
  }

  /** Makes the bucket when it is missing, and drops uploads crashed nodes left behind. */
  async open(): Promise<void> {
    if (await this.bucketExists()) {
      await sweepStaging(this.client, this.bucket, this.staleStagingMs);
      return;
    }
    try {
      await this.client.send(new CreateBucketCommand({ Bucket: this.bucket }));
    } catch (error) {
      // Another node sharing the bucket made it first.
      const name = (error as { name?: string }).name;
      if (name !== "BucketAlreadyOwnedByYou" && name !== "BucketAlreadyExists") {
        throw new S3EngineError("CreateBucket", this.bucket, error);
      }
    }
  }

  private async bucketExists(): Promise<boolean> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
      return true;
    } catch (error) {
      if (isMissingBucket(error)) return false;
      throw new S3EngineError("HeadBucket", this.bucket, error);
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
    this.copier.destroy();
  }

  async size(namespace: string, digest: string): Promise<number | undefined> {
    const cached = this.sizes.get(namespace, digest);
    if (typeof cached === "number") return cached;
    const size = await this.sizeOfKey(objectKey(namespace, digest));
    // Only sizes are kept, never an absence: another node sharing the bucket may store it next.
    if (size !== undefined) this.sizes.set(namespace, digest, size);
    return size;
  }

  async create(namespace: string): Promise<PendingObject> {
    return new S3PendingObject(
      {
        client: this.client,
        copier: this.copier,
        bucket: this.bucket,
        partBytes: this.partBytes,
        publishOnce: (ns, digest, bytes, publish) => this.publishOnce(ns, digest, bytes, publish),
      },
      namespace,
    );
  }

  async openReader(namespace: string, digest: string, from = 0): Promise<ObjectReader | undefined> {
    const reader = await S3ObjectReader.open(this.client, this.bucket, objectKey(namespace, digest), from);
    // Gone since its size was cached: another node sharing the bucket quarantined it.
    if (!reader) this.sizes.forget(namespace, digest);
    return reader;
  }

  async readOutboard(namespace: string, digest: string): Promise<Uint8Array | undefined> {
    const key = outboardKey(namespace, digest);
    try {
      const reply = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return await (reply.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray();
    } catch (error) {
      if (isMissingKey(error)) return undefined;
      throw s3Failure("GetObject", key, error);
    }
  }

  async writeOutboard(namespace: string, digest: string, outboard: Uint8Array): Promise<void> {
    if ((await this.size(namespace, digest)) === undefined) return;
    const key = outboardKey(namespace, digest);
    await s3Call("PutObject", key, () =>
      this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: outboard })),
    );
  }

  async *list(namespace: string): AsyncIterable<string> {
    const prefix = `${namespace}/`;
    let token: string | undefined;
    do {
      const continuation = token;
      const page = await s3Call("ListObjectsV2", prefix, () =>
        this.client.send(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: continuation }),
        ),
      );
      for (const entry of page.Contents ?? []) {
        const digest = entry.Key === undefined ? undefined : digestOfKey(namespace, entry.Key);
        if (digest !== undefined) yield digest;
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  /**
   * Copies the object under `quarantine/` (kept for a look, as the fs engine keeps the file),
   * then deletes it and its outboard. The outboard goes last, so a visible object never lacks it.
   */
  async quarantine(namespace: string, digest: string): Promise<void> {
    this.sizes.forget(namespace, digest);
    const key = objectKey(namespace, digest);
    const size = await this.sizeOfKey(key);
    if (size === undefined) return;
    const aside = quarantineKey(namespace, digest, new Date());
    await s3Call("CopyObject", aside, () =>
      this.copier.send(
        new CopyObjectCommand({ Bucket: this.bucket, Key: aside, CopySource: `${this.bucket}/${key}` }),
      ),
    );
    for (const gone of [key, outboardKey(namespace, digest)]) {
      await s3Call("DeleteObject", gone, () =>
        this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: gone })),
      );
    }
    this.counted = {
      objects: Math.max(0, this.counted.objects - 1),
      bytes: Math.max(0, this.counted.bytes - size),
    };
  }

  /**
   * What this node stored since it opened, minus what it quarantined: not the bucket's contents,
   * which other nodes share and which would cost a listing of the whole bucket to count.
   */
  totals(): { objects: number; bytes: number } {
    return { ...this.counted };
  }

  private async sizeOfKey(key: string): Promise<number | undefined> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return head.ContentLength ?? 0;
    } catch (error) {
      if (!isHeadMiss(error)) throw s3Failure("HeadObject", key, error);
    }
    // A HeadObject 404 is the same for a missing key and a missing bucket: a bucket deleted
    // under the node must not read as "every object absent" (GETs answering 404).
    if (!(await this.bucketStillThere())) throw s3Failure("HeadObject", key, noSuchBucket(this.bucket));
    return undefined;
  }

  /**
   * HeadBucket, at most once a second and once at a time: a miss is common (HAS, first PUTs),
   * a deleted bucket rare.
   */
  private bucketStillThere(): Promise<boolean> {
    if (Date.now() - this.bucketSeenAt < BUCKET_RECHECK_MS) return Promise.resolve(true);
    // Vouches from when it was asked, not answered: a slow answer says nothing about later.
    const askedAt = Date.now();
    this.bucketCheck ??= this.bucketExists()
      .then(
        (there) => {
          if (there) this.bucketSeenAt = askedAt;
          return there;
        },
        (error: unknown) => {
          throw s3Failure("HeadBucket", this.bucket, (error as Error).cause ?? error);
        },
      )
      .finally(() => {
        this.bucketCheck = undefined;
      });
    return this.bucketCheck;
  }

  /** One commit per object key at a time here: a second waits, then finds the object stored. */
  private async publishOnce(
    namespace: string,
    digest: string,
    bytes: number,
    publish: () => Promise<void>,
  ): Promise<boolean> {
    const key = objectKey(namespace, digest);
    for (let earlier = this.committing.get(key); earlier; earlier = this.committing.get(key)) {
      await earlier.catch(() => false);
    }
    const commit = (async () => {
      // Asked of the store, not the size cache: a re-PUT of an object another node quarantined
      // must store it again.
      if ((await this.sizeOfKey(key)) !== undefined) return false;
      await publish();
      this.sizes.set(namespace, digest, bytes);
      this.counted = { objects: this.counted.objects + 1, bytes: this.counted.bytes + bytes };
      return true;
    })();
    this.committing.set(key, commit);
    try {
      return await commit;
    } finally {
      this.committing.delete(key);
    }
  }
}

/** An S3 client for the engine whose connections close after `idleTimeoutMs` without a byte. */
function s3Client(options: S3EngineOptions, idleTimeoutMs: number): S3Client {
  const { accessKeyId, secretAccessKey } = options;
  return new S3Client({
    endpoint: options.endpoint,
    region: options.region,
    forcePathStyle: options.forcePathStyle,
    ...(accessKeyId && secretAccessKey ? { credentials: { accessKeyId, secretAccessKey } } : {}),
    // The node checks every byte against its BLAKE3 address itself; S3's extra checksums (and
    // their chunked trailers, which older servers such as Swift 2.30 refuse) add nothing.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    // Each GET being served holds a connection; the SDK's default of 50 would queue the rest.
    requestHandler: {
      httpAgent: { keepAlive: true, maxSockets: 512 },
      httpsAgent: { keepAlive: true, maxSockets: 512 },
      connectionTimeout: CONNECT_TIMEOUT_MS,
      socketTimeout: idleTimeoutMs,
    },
  });
}
