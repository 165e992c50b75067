import { performance } from "node:perf_hooks";
import { type Meta, OapError } from "@omnigate/oap";
import { type Blake3, createBlake3, type IncomingRequest, type ResponseWriter } from "@omnigate/sdk";
import { addressFromMeta, digestOf, type ObjectAddress } from "./address.js";
import { SharedBlock } from "./block-pool.js";
import type { StorageEngine } from "./engine.js";
import type { GetDeps } from "./get-deps.js";
import { type LocatedObject, locate, PUBLIC_NAMESPACE } from "./namespaces.js";
import { type ByteSpan, formatSpan, resolveRange } from "./range.js";
import { verifiedGet } from "./verified-get.js";

const EMPTY = new Uint8Array(0);
/**
 * The largest read, in chunks (8 × 64 KiB = 512 KiB). A GET reads one block, hands its chunks
 * to the connection and waits for it to drain once per block. Reading and waiting per 64 KiB
 * chunk cost a thread-pool round trip and an event-loop turn per chunk: a large GET cost the
 * node about 40% more CPU per byte than a plain HTTPS file server.
 */
const MAX_BLOCK_CHUNKS = 8;

/**
 * Finds an object this node does not hold (on other nodes, through the DHT), stores it and
 * says where; undefined when no one has it. What fetch-through plugs in.
 */
export type ObjectFinder = (addr: ObjectAddress, signal: AbortSignal) => Promise<LocatedObject | undefined>;

/** HAS: the object's size (and whether it is the public copy), or 404. */
export async function has(engine: StorageEngine, req: IncomingRequest, res: ResponseWriter): Promise<void> {
  const addr = addressFromMeta(req.meta, "addr");
  const found = await mustLocate(engine, req.tenantId, addr);
  res.reply(200, headMeta(addr, found));
}

/**
 * GET: RESP|START with meta `addr`, `size` (the object's), `length` (bytes in this reply) and,
 * on a 206, `range` (`start-end` served, inclusive); then the bytes in chunks of `chunkBytes`.
 *
 * Reads grow from one chunk to MAX_BLOCK_CHUNKS, each read into a pooled block, and the next
 * read waits until the connection drained, so a slow reader holds the node at about one block
 * per stream. A whole-object GET is hashed as it is read and its last chunk is
 * held back until the digest matches the address: a corrupt object never ends as a success —
 * the stream fails with 500 `object_corrupt` and the object is quarantined.
 */
export async function get(
  deps: GetDeps,
  req: IncomingRequest,
  res: ResponseWriter,
  findElsewhere?: ObjectFinder,
): Promise<void> {
  const arrived = performance.now();
  const { addr, range, verify } = readGetMeta(req.meta);
  const found =
    (await locate(deps.engine, req.tenantId, digestOf(addr))) ??
    (await findElsewhere?.(addr, req.signal)) ??
    notFound(addr);
  const plan = planSpan(addr, found, range, arrived);
  if (verify) return verifiedGet(deps, req, res, plan);
  const { span, code, head } = plan;
  const whole = span.start === 0 && span.end === found.size;
  const hasher = whole ? await createBlake3() : undefined;
  await stream(deps, req, res, { addr, found, span, code, head, hasher, arrived });
}

/**
 * A peer's fetch (op `fetch` on the node-to-node app id): a chunk-verified GET of an object in
 * the public namespace only — tenants' objects never leave their node — and never fetched
 * through from a third node, so two nodes cannot send one request around in a circle.
 */
export async function peerGet(deps: GetDeps, req: IncomingRequest, res: ResponseWriter): Promise<void> {
  const arrived = performance.now();
  const { addr, range } = readGetMeta(req.meta);
  const size = await deps.engine.size(PUBLIC_NAMESPACE, digestOf(addr));
  if (size === undefined) notFound(addr);
  await verifiedGet(deps, req, res, planSpan(addr, { namespace: PUBLIC_NAMESPACE, size }, range, arrived));
}

function readGetMeta(meta: Meta): { addr: ObjectAddress; range: string | undefined; verify: boolean } {
  const addr = addressFromMeta(meta, "addr");
  const range = meta.range;
  if (range !== undefined && typeof range !== "string") {
    throw new OapError("bad_meta", 'meta "range" must be a string: "start-end", "start-" or "-suffix"');
  }
  const verify = meta.verify;
  if (verify !== undefined && verify !== "chunks") {
    throw new OapError("bad_meta", 'meta "verify" must be "chunks" (or absent for a whole-object check)');
  }
  return { addr, range, verify: verify === "chunks" };
}

function planSpan(addr: ObjectAddress, found: LocatedObject, range: string | undefined, arrived: number) {
  const span: ByteSpan =
    range === undefined ? { start: 0, end: found.size } : resolveRange(range, found.size);
  const code = range === undefined ? 200 : 206;
  const head: Meta = {
    ...headMeta(addr, found),
    length: span.end - span.start,
    ...(code === 206 ? { range: formatSpan(span) } : {}),
  };
  return { addr, found, span, code, head, arrived };
}

interface GetPlan {
  addr: ObjectAddress;
  found: LocatedObject;
  span: ByteSpan;
  code: number;
  head: Meta;
  hasher: Blake3 | undefined;
  arrived: number;
}

async function stream(
  deps: GetDeps,
  req: IncomingRequest,
  res: ResponseWriter,
  plan: GetPlan,
): Promise<void> {
  const { addr, found, span, code, head, hasher, arrived } = plan;
  const reader = await deps.engine.openReader(found.namespace, digestOf(addr), span.start);
  // Removed since it was located (quarantined by another GET, or by another node sharing the store).
  if (!reader) notFound(addr);
  let offset = span.start;
  /** The span's last chunk, held back until the digest is checked, with its block. */
  let last: { chunk: Uint8Array; block: SharedBlock } | undefined;
  try {
    let blockChunks = 1;
    while (offset < span.end) {
      const block = new SharedBlock(deps.blocks, blockChunks * deps.chunkBytes);
      const into = block.bytes.subarray(0, Math.min(block.bytes.byteLength, span.end - offset));
      const read = await reader.read(into, offset);
      if (read === 0 || req.signal.aborted || res.ended) {
        block.drop();
        if (read === 0) break; // shorter than its size: the object changed under the reader
        return;
      }
      hasher?.update(into.subarray(0, read));
      offset += read;
      let accepted: Promise<void> | undefined;
      for (let at = 0; at < read; at += deps.chunkBytes) {
        const chunk = into.subarray(at, Math.min(at + deps.chunkBytes, read));
        if (offset >= span.end && at + chunk.byteLength === read) {
          last = { chunk, block };
          break;
        }
        if (!res.started) {
          await res.start(code, head);
          deps.metrics.firstByteAfter((performance.now() - arrived) / 1000);
        }
        // Counted when handed to the connection; the wait for it to take more comes after.
        accepted = res.write(chunk, { onWritten: block.hold() });
        // Only the block's last write is awaited; a failure of the others shows there too.
        accepted.catch(() => {});
        deps.metrics.sent(chunk.byteLength);
      }
      if (last?.block !== block) block.drop();
      // One wait per block. Reads start at one chunk so the first byte leaves soon and a small
      // object costs one small read.
      await accepted;
      blockChunks = Math.min(blockChunks * 2, MAX_BLOCK_CHUNKS);
    }
  } finally {
    await reader.close();
  }
  if (req.signal.aborted || res.ended) return last?.block.drop();
  const digestOk = hasher === undefined || hasher.digestHex() === digestOf(addr);
  if (offset !== span.end || !digestOk) {
    last?.block.drop();
    await deps.engine.quarantine(found.namespace, digestOf(addr));
    deps.log.error(
      {
        addr,
        namespace: found.namespace,
        expected_bytes: span.end - span.start,
        read_bytes: offset - span.start,
      },
      "storage object failed verification; quarantined",
    );
    const error = new OapError(
      "object_corrupt",
      `object ${addr} failed verification in the node; it was taken out of the store`,
    );
    if (res.started) return res.fail(error);
    throw error;
  }
  const chunk = last?.chunk ?? EMPTY;
  const onWritten = last ? last.block.hold() : undefined;
  last?.block.drop();
  if (!res.started) {
    res.reply(code, head, chunk, { onWritten });
    deps.metrics.firstByteAfter((performance.now() - arrived) / 1000);
  } else res.end(chunk, { onWritten });
  deps.metrics.sent(chunk.byteLength);
}

async function mustLocate(
  engine: StorageEngine,
  tenantId: bigint,
  addr: ObjectAddress,
): Promise<LocatedObject> {
  return (await locate(engine, tenantId, digestOf(addr))) ?? notFound(addr);
}

function notFound(addr: ObjectAddress): never {
  throw new OapError("not_found", `no object ${addr} is visible to this tenant`);
}

function headMeta(addr: ObjectAddress, found: LocatedObject): Meta {
  return { addr, size: found.size, ...(found.namespace === "public" ? { public: true } : {}) };
}
