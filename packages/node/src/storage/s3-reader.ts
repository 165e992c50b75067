import type { Readable } from "node:stream";
import { GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { OapError } from "@omnigate/oap";
import type { ObjectReader } from "./engine.js";
import { isMissingKey, isRangeNotSatisfiable, s3Failure } from "./s3-errors.js";
import { ReadAheadBody } from "./s3-read-ahead.js";

/**
 * Bytes a GET's body may run ahead of the reads: two of a GET's largest (512 KiB) blocks, so
 * one arrives while the node sends the other. It bounds what a stalled reader holds, too.
 */
const READ_AHEAD_BYTES = 1024 * 1024;

/** A GET's body as it arrives, and the object position of its next byte. */
interface OpenBody {
  body: ReadAheadBody;
  position: number;
}

/**
 * Reads one object by position. A GET reads an object front to back in blocks, so one HTTP
 * GET from the first position serves every read that continues where the last one stopped;
 * only a read elsewhere (a seek) closes it and opens a ranged GET from there. A request per
 * read would cost a round trip (and a Swift proxy lookup) per 64 KiB–512 KiB block.
 */
export class S3ObjectReader implements ObjectReader {
  private body: OpenBody | undefined;

  private constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly key: string,
  ) {}

  /**
   * Starts a GET of the object from `from` to its end; undefined when it does not exist. The
   * GET is sent now, so its 404 answers whether the object is there.
   */
  static async open(
    client: S3Client,
    bucket: string,
    key: string,
    from: number,
  ): Promise<S3ObjectReader | undefined> {
    const reader = new S3ObjectReader(client, bucket, key);
    try {
      reader.body = await reader.get(from, from > 0);
    } catch (error) {
      if (isMissingKey(error)) return undefined;
      // A start at or past the end: the object is there, and a read finds nothing.
      if (isRangeNotSatisfiable(error)) return reader;
      throw s3Failure("GetObject", key, error);
    }
    return reader;
  }

  async read(into: Uint8Array, position: number): Promise<number> {
    if (into.byteLength === 0) return 0;
    if (this.body?.position !== position) {
      this.drop();
      try {
        this.body = await this.get(position, true);
      } catch (error) {
        if (isRangeNotSatisfiable(error)) return 0;
        throw goneOr(error, this.key);
      }
    }
    let done = 0;
    let resumed = false;
    while (done < into.byteLength) {
      const body = this.body as OpenBody;
      let read: number;
      try {
        read = await body.body.read(into.subarray(done));
      } catch (error) {
        this.drop();
        if (resumed) throw s3Failure("GetObject (body)", this.key, error);
        // A body that broke on the way (closed idle while a slow client held the GET back, a
        // reset connection) is picked up once where it stopped, with a ranged GET.
        resumed = true;
        try {
          this.body = await this.get(position + done, true);
        } catch (reopenError) {
          if (isRangeNotSatisfiable(reopenError)) return done;
          throw goneOr(reopenError, this.key);
        }
        continue;
      }
      if (read === 0) break;
      done += read;
    }
    (this.body as OpenBody).position = position + done;
    return done;
  }

  async close(): Promise<void> {
    this.drop();
  }

  /** A GET from `position` to the end (no Range header for the whole object: an empty one has no byte 0). */
  private async get(position: number, ranged: boolean): Promise<OpenBody> {
    const reply = await this.client.send(
      new GetObjectCommand({
        Bucket: this.bucket,
        Key: this.key,
        ...(ranged ? { Range: `bytes=${position}-` } : {}),
      }),
    );
    return { body: new ReadAheadBody(reply.Body as Readable, READ_AHEAD_BYTES), position };
  }

  /** Closes the body being read, if any: its connection is dropped rather than drained. */
  private drop(): void {
    this.body?.body.destroy();
    this.body = undefined;
  }
}

/** A GET that finds the object gone mid-read (quarantined by another GET or node) is 404. */
function goneOr(error: unknown, key: string): Error {
  if (isMissingKey(error)) return new OapError("not_found", "the object was removed while it was read");
  return s3Failure("GetObject", key, error);
}
