import { engineUnavailable } from "../util/engine-unavailable.js";

/** An S3 call the s3 engine made failed; the message names the call, the key and what S3 said. */
export class S3EngineError extends Error {
  constructor(operation: string, key: string, cause: unknown) {
    super(`s3 ${operation} of ${key} failed: ${describe(cause)}`, { cause });
    this.name = "S3EngineError";
  }
}

interface S3ServiceFailure {
  name?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

function describe(cause: unknown): string {
  const failure = cause as S3ServiceFailure;
  const status = failure?.$metadata?.httpStatusCode;
  const parts = [failure?.name, status === undefined ? undefined : `HTTP ${status}`, failure?.message];
  return parts.filter((part) => part !== undefined && part !== "").join(", ") || String(cause);
}

/**
 * GetObject found no such key. Only `NoSuchKey`: S3, Swift's s3api, MinIO and Ceph always put
 * a code in a GET's 404, so one without it (or with NoSuchBucket) is a wrong endpoint, a proxy
 * or a missing bucket, and goes up as the store's failure instead of as an absent object.
 */
export function isMissingKey(error: unknown): boolean {
  return (error as S3ServiceFailure)?.name === "NoSuchKey";
}

/**
 * HeadObject found nothing: its 404 has no body, so no code, and a missing bucket answers the
 * same (the caller tells the two apart with HeadBucket).
 */
export function isHeadMiss(error: unknown): boolean {
  const failure = error as S3ServiceFailure;
  return (
    failure?.name === "NotFound" ||
    failure?.name === "NoSuchKey" ||
    failure?.$metadata?.httpStatusCode === 404
  );
}

/** A store answer saying the bucket does not exist, for a call that found it gone. */
export function noSuchBucket(bucket: string): S3ServiceFailure {
  return {
    name: "NoSuchBucket",
    message: `the bucket ${bucket} does not exist`,
    $metadata: { httpStatusCode: 404 },
  };
}

/** HeadBucket's answer for a bucket that does not exist: a bare 404. */
export function isMissingBucket(error: unknown): boolean {
  const failure = error as S3ServiceFailure;
  return (
    failure?.name === "NoSuchBucket" ||
    failure?.name === "NotFound" ||
    failure?.$metadata?.httpStatusCode === 404
  );
}

/** A range that starts at or past the end of the object (a read past the end). */
export function isRangeNotSatisfiable(error: unknown): boolean {
  const failure = error as S3ServiceFailure;
  return failure?.name === "InvalidRange" || failure?.$metadata?.httpStatusCode === 416;
}

/**
 * The error a failed S3 call during a request is answered with. A store that did not answer
 * (no HTTP status: refused, reset, timed out; or 5xx, 429, 408) is 503 `not_ready`, which
 * clients retry: Swift returns 503 while it lacks a quorum, and a proxy may be restarting.
 * Any other answer (403 credentials, 400) will not change on retry: an S3EngineError, 500.
 */
export function s3Failure(operation: string, key: string, error: unknown): Error {
  const failure = new S3EngineError(operation, key, error);
  const status = (error as S3ServiceFailure)?.$metadata?.httpStatusCode;
  const transient = status === undefined || status >= 500 || status === 429 || status === 408;
  return transient ? engineUnavailable("the object store", failure) : failure;
}

/** Runs one S3 call of a request, turning its failure into the error s3Failure() picks. */
export async function s3Call<T>(operation: string, key: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw s3Failure(operation, key, error);
  }
}
