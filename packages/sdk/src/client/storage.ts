import { AppProtoId, concatBytes, type Meta, utf8Bytes } from "@omnigate/oap/internal";
import type { Blake3 } from "../blake3-wasm.js";
import { GROUP_BYTES } from "../verified/blake3-tree.js";
import { GroupVerificationError, ProofStreamError, VerifiedGroupReader } from "../verified/proof-stream.js";
import type { CallOptions, OapCaller } from "./call-options.js";
import { OapAbortError, OapClientError, OapRequestError } from "./errors.js";
import type { OapStream } from "./stream.js";

/** `b3:` + the 64 lowercase hex digits of the BLAKE3-256 digest of an object's bytes. */
export type StorageAddress = `b3:${string}`;

const ADDRESS = /^b3:[0-9a-f]{64}$/;
/** Bytes per write when a put is given one large buffer (the client splits it into frames). */
const PUT_SLICE_BYTES = 256 * 1024;

/** True when `value` is a well-formed storage address (`b3:` + 64 lowercase hex digits). */
export function isStorageAddress(value: unknown): value is StorageAddress {
  return typeof value === "string" && ADDRESS.test(value);
}

/** Options shared by storage calls: tenant, deadline, signal and capability, as on any stream. */
export type StorageCallOptions = Omit<CallOptions, "meta" | "e2e">;

/** Options of `storage.put()`: namespace, announced size, progress. */
export interface PutOptions extends StorageCallOptions {
  /** Publish to the shared `public` namespace, readable by every tenant (docs/storage.md). */
  public?: boolean;
  /** Total length when known: the node refuses an object over its limit before any byte is sent. */
  size?: number;
  /** Called with the body bytes sent so far, after each write the connection took. */
  onProgress?: (sentBytes: number) => void;
}

/** What `storage.put()` resolves to once the node has stored the object. */
export interface PutResult {
  /** The object's address, as the node computed it from the bytes it stored. */
  addr: StorageAddress;
  /** The object's size in bytes. */
  size: number;
  /** False when the node already held these bytes (PUT is idempotent). */
  created: boolean;
}

/** Options of `storage.get()` and `storage.getBytes()`: a byte range, or the whole object. */
export interface GetOptions extends StorageCallOptions {
  /**
   * One byte range: `start-end` (inclusive), `start-` or `-suffix`; the reply is then 206. Without
   * `verify: "chunks"` a range is not verified.
   */
  range?: string;
  /**
   * `"chunks"`: the node sends a proof with every 64 KiB group and each group is checked against
   * the address before it is yielded, ranges included (docs/storage.md). Without it a whole
   * object is checked once, at its end.
   */
  verify?: "chunks";
}

/** What the node says about an object in a GET reply's head. */
export interface ObjectHead {
  /** 200 for the whole object, 206 for a range. */
  code: number;
  /** The address asked for. */
  addr: StorageAddress;
  /** The whole object's size. */
  size: number;
  /** Bytes this reply carries. */
  length: number;
  /** The span served (`start-end`, inclusive) on a 206. */
  range?: string;
  /** The object was found in the shared `public` namespace rather than the tenant's. */
  public: boolean;
}

/** What `storage.has()` says about an object that exists. */
export interface ObjectInfo {
  /** The object's size in bytes. */
  size: number;
  /** It is in the shared `public` namespace rather than the tenant's. */
  public: boolean;
}

/** The bytes of a whole-object GET do not hash to the address asked for (or the reply was short). */
export class StorageIntegrityError extends OapClientError {
  constructor(message: string, corrId: bigint | undefined) {
    super(message, { code: 500, reason: "object_corrupt", corrId, retryable: false });
    this.name = "StorageIntegrityError";
  }
}

/**
 * A 64 KiB group of a chunk-verified GET failed its proof: the bytes of that group (and what
 * follows) were not yielded. `groupIndex` and `offset` say where in the object.
 */
export class StorageChunkError extends StorageIntegrityError {
  constructor(
    message: string,
    corrId: bigint | undefined,
    /** The group that failed (its bytes start at groupIndex × 65536). */
    readonly groupIndex: number,
    /** Byte offset of that group in the object. */
    readonly offset: number,
  ) {
    super(message, corrId);
    this.name = "StorageChunkError";
  }
}

/**
 * The storage facade (`client.storage`) over the node's storage service on 0x0301: PUT
 * streams and returns the address, GET streams chunks and verifies whole objects, HAS.
 */
export class StorageClient {
  /** @internal Use `client.storage`. */
  constructor(
    private readonly client: OapCaller,
    private readonly createBlake3: () => Promise<Blake3>,
  ) {}

  /**
   * Stores bytes or a stream of chunks and returns the address. Bytes are hashed first and sent
   * with meta `expected`, so the node refuses (409) a body that changed on the way; a stream is
   * hashed as it is sent and the node's address is checked against it.
   */
  async put(
    data: Uint8Array | string | AsyncIterable<Uint8Array>,
    options: PutOptions = {},
  ): Promise<PutResult> {
    const bytes = typeof data === "string" ? utf8Bytes(data) : data instanceof Uint8Array ? data : undefined;
    const meta: Meta = { op: "put" };
    if (options.public) meta.public = true;
    const size = bytes?.length ?? options.size;
    if (size !== undefined) meta.size = size;
    if (bytes) meta.expected = await addressWith(this.createBlake3, bytes);
    const { onProgress, public: _public, size: _size, ...streamOptions } = options;
    const stream = this.client.stream(AppProtoId.STORAGE, { ...streamOptions, meta });
    const hasher = await this.createBlake3();
    let sent = 0;
    let sendError: { error: unknown } | undefined;
    const send = async (write: Promise<void>) => {
      try {
        await write;
      } catch (error) {
        sendError = { error };
      }
    };
    try {
      for await (const chunk of bytes ? slices(bytes) : (data as AsyncIterable<Uint8Array>)) {
        if (chunk.length === 0) continue;
        hasher.update(chunk);
        await send(stream.write(chunk));
        if (sendError) break;
        sent += chunk.length;
        onProgress?.(sent);
      }
    } catch (sourceError) {
      // The data source failed: never end the request, or the node would store a truncated
      // object. The node drops the unfinished PUT when its deadline passes.
      stream.cancel(new OapAbortError("the data source of a storage put failed", stream.corrId, sourceError));
      throw sourceError;
    }
    if (!sendError) await send(stream.end());
    if (sendError) {
      // The node may have refused the body part-way (413, 409): its answer says why.
      await stream.response;
      throw sendError.error;
    }
    const head = await stream.response;
    stream.discard();
    const addr = head.meta.addr;
    if (!isStorageAddress(addr))
      throw new StorageIntegrityError("the node answered a PUT without an address", stream.corrId);
    const local = `b3:${hasher.digestHex()}`;
    if (addr !== local) {
      throw new StorageIntegrityError(
        `the node stored ${addr} but the bytes sent hash to ${local}`,
        stream.corrId,
      );
    }
    return { addr, size: Number(head.meta.size), created: head.meta.created === true };
  }

  /**
   * Reads an object (or one range of it) as an async iterable of chunks. A whole-object read
   * is hashed as it arrives; the iteration ends with StorageIntegrityError instead of finishing
   * when the bytes do not match the address. Treat the bytes as unverified until it finishes.
   */
  get(addr: StorageAddress, options: GetOptions = {}): StorageReader {
    checkAddress(addr);
    const { range, verify, ...streamOptions } = options;
    const meta: Meta = {
      op: "get",
      addr,
      ...(range === undefined ? {} : { range }),
      ...(verify === "chunks" ? { verify } : {}),
    };
    const stream = this.client.stream(AppProtoId.STORAGE, { ...streamOptions, meta });
    stream.end().catch(() => {});
    const check: ReadCheck =
      verify === "chunks" ? "chunks" : range === undefined ? { whole: this.createBlake3 } : "none";
    return new StorageReader(addr, stream, check);
  }

  /** A whole object (or range) as one buffer, verified like get(). */
  async getBytes(addr: StorageAddress, options: GetOptions = {}): Promise<Buffer> {
    const reader = this.get(addr, options);
    const chunks: Uint8Array[] = [];
    for await (const chunk of reader) chunks.push(chunk);
    return concatBytes(chunks);
  }

  /** The object's size if this tenant can read it, else undefined. */
  async has(addr: StorageAddress, options: StorageCallOptions = {}): Promise<ObjectInfo | undefined> {
    checkAddress(addr);
    try {
      const reply = await this.client.request(AppProtoId.STORAGE, { ...options, meta: { op: "has", addr } });
      return { size: Number(reply.meta.size), public: reply.meta.public === true };
    } catch (error) {
      if (error instanceof OapRequestError && error.code === 404) return undefined;
      throw error;
    }
  }
}

/** How a GET's bytes are checked: each group's proof, the whole object's hash, or not at all (a plain range). */
type ReadCheck = "chunks" | { whole: () => Promise<Blake3> } | "none";

/** One GET: `head()` for the reply's meta, iteration for the bytes. */
export class StorageReader implements AsyncIterable<Buffer> {
  /** @internal Use `client.storage.get()`. */
  constructor(
    /** The address being read. */
    readonly addr: StorageAddress,
    private readonly stream: OapStream,
    private readonly check: ReadCheck,
  ) {}

  /** The reply head: rejects with the node's error (404 not_found, 416 range_not_satisfiable, …). */
  async head(): Promise<ObjectHead> {
    const { code, meta } = await this.stream.response;
    return {
      code,
      addr: this.addr,
      size: Number(meta.size),
      length: Number(meta.length),
      ...(typeof meta.range === "string" ? { range: meta.range } : {}),
      public: meta.public === true,
    };
  }

  /** Stops reading: what is buffered and still arriving is dropped. */
  cancel(): void {
    this.stream.discard();
  }

  /**
   * The object's bytes, chunk by chunk as they arrive. A whole-object read is hashed as it goes
   * and throws StorageIntegrityError at the end if the bytes do not match the address.
   */
  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    const head = await this.head();
    if (this.check === "chunks") {
      yield* this.verifiedChunks(head);
      return;
    }
    const hasher = typeof this.check === "object" ? await this.check.whole() : undefined;
    let received = 0;
    try {
      for await (const chunk of this.stream) {
        received += chunk.length;
        hasher?.update(chunk);
        yield chunk;
      }
    } finally {
      this.stream.discard();
    }
    this.checkLength(received, head);
    if (hasher && `b3:${hasher.digestHex()}` !== this.addr) {
      throw new StorageIntegrityError(
        `${this.addr}: the bytes received do not hash to the address`,
        this.stream.corrId,
      );
    }
  }

  /** A reply that ended early (or ran long) fails, whatever the hash says. */
  private checkLength(received: number, head: ObjectHead): void {
    if (received === head.length) return;
    throw new StorageIntegrityError(
      `${this.addr}: the reply carried ${received} bytes, its head announced ${head.length}`,
      this.stream.corrId,
    );
  }

  /** The bytes of a chunk-verified reply: each group checked, then trimmed to the span asked for. */
  private async *verifiedChunks(head: ObjectHead): AsyncGenerator<Buffer> {
    const { meta } = await this.stream.response;
    const groups = typeof meta.groups === "string" ? GROUP_SPAN.exec(meta.groups) : null;
    if (meta.verify !== "chunks" || !groups) {
      this.stream.discard();
      throw new StorageIntegrityError(
        `${this.addr}: the node did not send a chunk-verified reply`,
        this.stream.corrId,
      );
    }
    const [firstGroup, lastGroup] = [Number(groups[1]), Number(groups[2])];
    const spanStart = head.range === undefined ? 0 : Number(head.range.split("-")[0]);
    const spanEnd = spanStart + head.length;
    const reader = new VerifiedGroupReader({
      root: rootOf(this.addr),
      size: head.size,
      firstGroup,
      lastGroup,
    });
    let received = 0;
    try {
      for await (const chunk of this.stream) {
        for (const group of reader.push(chunk)) {
          const groupStart = group.index * GROUP_BYTES;
          const from = Math.max(spanStart - groupStart, 0);
          const to = Math.min(spanEnd - groupStart, group.bytes.length);
          if (to <= from) continue;
          received += to - from;
          const bytes = group.bytes.subarray(from, to);
          yield Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
        }
      }
      reader.end();
    } catch (error) {
      if (error instanceof GroupVerificationError) {
        throw new StorageChunkError(
          `${this.addr}: the 64 KiB group ${error.groupIndex} (bytes from ${error.offset}) failed its proof`,
          this.stream.corrId,
          error.groupIndex,
          error.offset,
        );
      }
      if (error instanceof ProofStreamError)
        throw new StorageIntegrityError(`${this.addr}: ${error.message}`, this.stream.corrId);
      throw error;
    } finally {
      this.stream.discard();
    }
    this.checkLength(received, head);
  }
}

const GROUP_SPAN = /^(\d{1,15})-(\d{1,15})$/;

function rootOf(addr: StorageAddress): Uint8Array {
  const root = new Uint8Array(32);
  for (let i = 0; i < 32; i++) root[i] = Number.parseInt(addr.slice(3 + 2 * i, 5 + 2 * i), 16);
  return root;
}

/** The address of some bytes, hashed with `createBlake3`'s hasher. */
export async function addressWith(
  createBlake3: () => Promise<Blake3>,
  bytes: Uint8Array,
): Promise<StorageAddress> {
  const hasher = await createBlake3();
  hasher.update(bytes);
  return `b3:${hasher.digestHex()}`;
}

function* slices(bytes: Uint8Array): Iterable<Uint8Array> {
  for (let at = 0; at < bytes.length; at += PUT_SLICE_BYTES) yield bytes.subarray(at, at + PUT_SLICE_BYTES);
}

function checkAddress(addr: string): void {
  if (!isStorageAddress(addr))
    throw new TypeError(`not a storage address (b3: and 64 lowercase hex digits): ${addr}`);
}
