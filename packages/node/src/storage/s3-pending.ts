import { randomUUID } from "node:crypto";
import {
  AbortMultipartUploadCommand,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import type { PendingObject } from "./engine.js";
import { s3Call } from "./s3-errors.js";
import { objectKey, outboardKey, stagingKey } from "./s3-keys.js";

/** The part buffer of a new object; it doubles as bytes arrive, up to a part. */
const FIRST_BUFFER_BYTES = 64 * 1024;

/** What the pending object needs of its engine. */
export interface S3PendingContext {
  client: S3Client;
  /** For copies inside the store, which may be silent for long (no idle timeout). */
  copier: S3Client;
  bucket: string;
  partBytes: number;
  /**
   * Runs `publish` unless the object is already stored (then false), one commit per object at
   * a time in this node, so two PUTs of the same bytes here store it once.
   */
  publishOnce(
    namespace: string,
    digest: string,
    bytes: number,
    publish: () => Promise<void>,
  ): Promise<boolean>;
}

/**
 * An object being PUT to S3. Bytes collect in a part buffer; an object that fits in one part is
 * sent whole with one PutObject at commit, straight to its address. A larger one streams as a
 * multipart upload, a part as each fills (one part uploading while the next fills), to a staging
 * key, because S3 needs the key when the upload starts and the digest is known only at the end.
 */
export class S3PendingObject implements PendingObject {
  private part: Buffer;
  private filled = 0;
  private size = 0;
  private readonly staging = stagingKey(randomUUID());
  private uploadId: string | undefined;
  private readonly parts: CompletedPart[] = [];
  private uploading: Promise<void> | undefined;
  /** The staging object was completed and must be deleted if the commit does not finish. */
  private stagedWhole = false;
  private closed = false;

  constructor(
    private readonly context: S3PendingContext,
    private readonly namespace: string,
  ) {
    // Small at first: most objects are far smaller than a part.
    this.part = Buffer.allocUnsafe(Math.min(FIRST_BUFFER_BYTES, context.partBytes));
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.closed) throw new Error("the object was already committed or aborted");
    const { partBytes } = this.context;
    for (let at = 0; at < chunk.byteLength; ) {
      // A full part is sent only once more bytes arrive, so an object of exactly one part is
      // still a single PutObject.
      if (this.filled === partBytes) await this.sendPart();
      const piece = chunk.subarray(at, at + partBytes - this.filled);
      this.makeRoom(this.filled + piece.byteLength);
      this.part.set(piece, this.filled);
      this.filled += piece.byteLength;
      at += piece.byteLength;
    }
    this.size += chunk.byteLength;
  }

  async commit(digest: string, outboard?: Uint8Array): Promise<boolean> {
    if (this.closed) throw new Error("the object was already committed or aborted");
    const published = await this.context.publishOnce(this.namespace, digest, this.size, () =>
      this.publish(digest, outboard),
    );
    if (!published) {
      await this.abort();
      return false;
    }
    this.closed = true;
    this.release();
    return true;
  }

  async abort(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.release();
    const { client, bucket } = this.context;
    // The part in flight must end before the upload is aborted, or it could outlive it.
    await this.uploading?.catch(() => {});
    if (this.stagedWhole) {
      await s3Call("DeleteObject", this.staging, () =>
        client.send(new DeleteObjectCommand({ Bucket: bucket, Key: this.staging })),
      );
    } else if (this.uploadId !== undefined) {
      const uploadId = this.uploadId;
      await s3Call("AbortMultipartUpload", this.staging, () =>
        client.send(
          new AbortMultipartUploadCommand({ Bucket: bucket, Key: this.staging, UploadId: uploadId }),
        ),
      );
    }
  }

  private async publish(digest: string, outboard: Uint8Array | undefined): Promise<void> {
    const { client, bucket } = this.context;
    const key = objectKey(this.namespace, digest);
    // The outboard first: once the object is visible, a verified GET may ask for it.
    if (outboard && outboard.byteLength > 0) {
      const outKey = outboardKey(this.namespace, digest);
      await s3Call("PutObject", outKey, () =>
        client.send(new PutObjectCommand({ Bucket: bucket, Key: outKey, Body: outboard })),
      );
    }
    if (this.uploadId === undefined) {
      const body = this.part.subarray(0, this.filled);
      await s3Call("PutObject", key, () =>
        client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body })),
      );
    } else {
      await this.publishStaged(key);
    }
  }

  /**
   * Completes the multipart upload, then copies it server-side to its address and deletes the
   * staging object. S3 has no rename, and a copy inside the store moves no byte through the
   * node; readers see the object only once the copy is whole.
   */
  private async publishStaged(key: string): Promise<void> {
    const { client, copier, bucket } = this.context;
    await this.sendPart(false);
    await this.uploading;
    const uploadId = this.uploadId as string;
    await s3Call("CompleteMultipartUpload", this.staging, () =>
      copier.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: this.staging,
          UploadId: uploadId,
          MultipartUpload: { Parts: this.parts },
        }),
      ),
    );
    this.stagedWhole = true;
    await s3Call("CopyObject", key, () =>
      copier.send(
        new CopyObjectCommand({ Bucket: bucket, Key: key, CopySource: `${bucket}/${this.staging}` }),
      ),
    );
    await s3Call("DeleteObject", this.staging, () =>
      client.send(new DeleteObjectCommand({ Bucket: bucket, Key: this.staging })),
    );
    this.stagedWhole = false;
  }

  /** Uploads the filled part, after the one before it finished; the next fills meanwhile. */
  private async sendPart(more = true): Promise<void> {
    const { client, bucket } = this.context;
    if (this.uploadId === undefined) {
      const created = await s3Call("CreateMultipartUpload", this.staging, () =>
        client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: this.staging })),
      );
      this.uploadId = created.UploadId;
    }
    await this.uploading;
    const uploadId = this.uploadId as string;
    const body = this.part.subarray(0, this.filled);
    const partNumber = this.parts.length + 1;
    const completed: CompletedPart = { PartNumber: partNumber };
    this.parts.push(completed);
    this.uploading = s3Call("UploadPart", `${this.staging} part ${partNumber}`, async () => {
      const reply = await client.send(
        new UploadPartCommand({
          Bucket: bucket,
          Key: this.staging,
          UploadId: uploadId,
          PartNumber: partNumber,
          Body: body,
        }),
      );
      completed.ETag = reply.ETag;
    });
    // Seen by the next sendPart, commit or abort; not an unhandled rejection meanwhile.
    this.uploading.catch(() => {});
    this.part = more ? Buffer.allocUnsafe(this.context.partBytes) : Buffer.alloc(0);
    this.filled = 0;
  }

  /** Grows the part buffer (doubling, up to a part) to hold `bytes`. */
  private makeRoom(bytes: number): void {
    if (bytes <= this.part.byteLength) return;
    const grown = Buffer.allocUnsafe(
      Math.min(this.context.partBytes, Math.max(bytes, 2 * this.part.byteLength)),
    );
    this.part.copy(grown, 0, 0, this.filled);
    this.part = grown;
  }

  private release(): void {
    this.part = Buffer.alloc(0);
    this.filled = 0;
  }
}
