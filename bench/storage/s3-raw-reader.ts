import type { Readable } from "node:stream";
import { GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import type { ObjectReader } from "./readers.js";

/** A read that has not ended in this long fails rather than hangs the bench. */
const READ_TIMEOUT_MS = 120_000;

/** The baseline: GetObject of one key straight from the store, its body read to the end as it arrives. */
export function rawS3Reader(s3: S3Client, bucket: string, key: string): ObjectReader {
  return {
    async read() {
      const started = performance.now();
      let firstByteMs = -1;
      let bytes = 0;
      const reply = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }), {
        abortSignal: AbortSignal.timeout(READ_TIMEOUT_MS),
      });
      for await (const chunk of reply.Body as Readable) {
        if (firstByteMs < 0) firstByteMs = performance.now() - started;
        bytes += (chunk as Buffer).byteLength;
      }
      return { bytes, firstByteMs, totalMs: performance.now() - started };
    },
    close: async () => {},
  };
}
