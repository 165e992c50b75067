import type { RangeResponse, Source } from "pmtiles";

/** A content address in Omnigate storage. */
export type StorageAddress = `b3:${string}`;

/**
 * Reads one byte range of a stored object. `range` is `start-end`, inclusive (HTTP Range
 * syntax); the node answers with exactly those bytes, or fewer when the object ends first.
 * The SDK's `client.storage.getBytes` has this shape.
 */
export interface StorageRangeReader {
  getBytes(addr: StorageAddress, options: { range: string; signal?: AbortSignal }): Promise<Uint8Array>;
}

/** One completed read, for latency statistics. */
export interface RangeReadStat {
  offset: number;
  /** Bytes asked for. */
  length: number;
  /** Bytes received (fewer than asked at the end of the object). */
  bytes: number;
  ms: number;
}

export interface OapRangeSourceOptions {
  onRead?: (stat: RangeReadStat) => void;
}

/**
 * A pmtiles Source over OAP: each range the pmtiles reader wants becomes one storage range
 * read of the archive object. The key is the archive's address, so `pmtiles://<address>`
 * names it for MapLibre.
 */
export class OapRangeSource implements Source {
  constructor(
    private readonly reader: StorageRangeReader,
    readonly address: StorageAddress,
    private readonly options: OapRangeSourceOptions = {},
  ) {}

  getKey(): string {
    return this.address;
  }

  async getBytes(offset: number, length: number, signal?: AbortSignal): Promise<RangeResponse> {
    if (length <= 0) return { data: new ArrayBuffer(0) };
    const started = performance.now();
    // The reader asks for the first 16 KiB whatever the archive's size; the node's short
    // answer at the object's end is the right reply, so the range is sent as asked.
    const range = `${offset}-${offset + length - 1}`;
    const bytes = await this.reader.getBytes(this.address, signal ? { range, signal } : { range });
    if (bytes.length > length) {
      throw new Error(
        `storage answered ${bytes.length} bytes for the ${length}-byte range ${range} of ${this.address}`,
      );
    }
    this.options.onRead?.({ offset, length, bytes: bytes.length, ms: performance.now() - started });
    return { data: tightCopy(bytes) };
  }
}

/** The bytes in an ArrayBuffer of their own (a Node Buffer may be a view into a shared pool). */
function tightCopy(bytes: Uint8Array): ArrayBuffer {
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return copy.buffer;
}
