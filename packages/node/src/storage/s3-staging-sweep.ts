import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  type S3Client,
} from "@aws-sdk/client-s3";
import { s3Call } from "./s3-errors.js";
import { STAGING_PREFIX } from "./s3-keys.js";

/**
 * Drops what PUTs of crashed nodes left under `staging/`: multipart uploads never completed or
 * aborted, and staged objects never copied to their address. Only what is older than
 * `olderThanMs`, since other nodes sharing the bucket may be uploading right now. (S3's
 * lifecycle rules do this on AWS; Swift's s3api has none.) Resolves to how many it dropped.
 */
export async function sweepStaging(
  client: S3Client,
  bucket: string,
  olderThanMs: number,
  now = Date.now(),
): Promise<number> {
  // Listings give whole seconds, which Swift rounds up: a time counts as up to 1 s earlier.
  const before = now - olderThanMs + 1000;
  let dropped = 0;
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  do {
    const [key, id] = [keyMarker, uploadIdMarker];
    const page = await s3Call("ListMultipartUploads", STAGING_PREFIX, () =>
      client.send(
        new ListMultipartUploadsCommand({
          Bucket: bucket,
          Prefix: STAGING_PREFIX,
          KeyMarker: key,
          UploadIdMarker: id,
        }),
      ),
    );
    for (const upload of page.Uploads ?? []) {
      if (!upload.Key || !upload.UploadId || (upload.Initiated?.getTime() ?? now) > before) continue;
      const { Key, UploadId } = upload;
      await s3Call("AbortMultipartUpload", Key, () =>
        client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key, UploadId })),
      );
      dropped++;
    }
    [keyMarker, uploadIdMarker] = page.IsTruncated ? [page.NextKeyMarker, page.NextUploadIdMarker] : [];
  } while (keyMarker !== undefined);

  let token: string | undefined;
  do {
    const continuation = token;
    const page = await s3Call("ListObjectsV2", STAGING_PREFIX, () =>
      client.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: STAGING_PREFIX, ContinuationToken: continuation }),
      ),
    );
    for (const entry of page.Contents ?? []) {
      if (!entry.Key || (entry.LastModified?.getTime() ?? now) > before) continue;
      const Key = entry.Key;
      await s3Call("DeleteObject", Key, () => client.send(new DeleteObjectCommand({ Bucket: bucket, Key })));
      dropped++;
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return dropped;
}
