import { performance } from "node:perf_hooks";
import { type Meta, OapError } from "@omnigate/oap";
import { type Blake3, createBlake3, type IncomingRequest, type ResponseWriter } from "@omnigate/sdk";
import type { Logger } from "../log.js";
import type { StorageMetrics } from "../metrics/storage-metrics.js";
import { addressFromMeta, digestOf, type ObjectAddress } from "./address.js";
import type { StorageEngine } from "./engine.js";
import { type LocatedObject, locate } from "./namespaces.js";
import { type ByteSpan, formatSpan, resolveRange } from "./range.js";

const EMPTY = new Uint8Array(0);
/**
 * Chunks handed to the connection before waiting for it to drain. Waiting after every 64 KiB
 * chunk cost an event-loop turn per chunk; after 8 (512 KiB, the fs engine's read block), a
 * fast reader's GET costs the node about 25% less CPU per byte, and a slow reader still holds
 * the node at a block's worth of chunks.
 */
const CHUNKS_PER_DRAIN_WAIT = 8;

export interface GetDeps {
  engine: StorageEngine;
  metrics: StorageMetrics;
  log: Logger;
  chunkBytes: number;
}

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
 * The stream waits for the connection to drain after every CHUNKS_PER_DRAIN_WAIT chunks
 * before it pulls more from the engine, so a slow reader holds the node at about that many
 * chunks per stream. A whole-object GET is hashed as it is read and its last chunk is
 * held back until the digest matches the address: a corrupt object never ends as a success —
 * the stream fails with 500 `object_corrupt` and the object is quarantined.
 */
export async function get(deps: GetDeps, req: IncomingRequest, res: ResponseWriter): Promise<void> {
  const arrived = performance.now();
  const addr = addressFromMeta(req.meta, "addr");
  const range = req.meta.range;
  if (range !== undefined && typeof range !== "string") {
    throw new OapError("bad_meta", 'meta "range" must be a string: "start-end", "start-" or "-suffix"');
  }
  const found = await mustLocate(deps.engine, req.tenantId, addr);
  const span: ByteSpan =
    range === undefined ? { start: 0, end: found.size } : resolveRange(range, found.size);
  const code = range === undefined ? 200 : 206;
  const head: Meta = {
    ...headMeta(addr, found),
    length: span.end - span.start,
    ...(code === 206 ? { range: formatSpan(span) } : {}),
  };
  const whole = span.start === 0 && span.end === found.size;
  const hasher = whole ? await createBlake3() : undefined;
  await stream(deps, req, res, { addr, found, span, code, head, hasher, arrived });
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

  let offset = span.start;
  let firstByte = true;
  const firstByteSent = () => {
    if (!firstByte) return;
    firstByte = false;
    deps.metrics.firstByteAfter((performance.now() - arrived) / 1000);
  };
  let last: Uint8Array = EMPTY;
  let sinceWait = 0;
  for await (const chunk of deps.engine.read(
    found.namespace,
    digestOf(addr),
    span.start,
    span.end,
    deps.chunkBytes,
  )) {
    if (req.signal.aborted || res.ended) return;
    offset += chunk.byteLength;
    hasher?.update(chunk);
    if (offset >= span.end) {
      last = chunk;
      break;
    }
    // Counted when handed to the connection; the wait for it to take more comes after.
    const accepted = res.started ? res.write(chunk) : res.start(code, head, chunk);
    firstByteSent();
    deps.metrics.sent(chunk.byteLength);
    if (++sinceWait >= CHUNKS_PER_DRAIN_WAIT) {
      sinceWait = 0;
      await accepted;
    }
  }
  if (req.signal.aborted || res.ended) return;
  const digestOk = hasher === undefined || hasher.digestHex() === digestOf(addr);
  if (offset !== span.end || !digestOk) {
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
  if (!res.started) res.reply(code, head, last);
  else res.end(last);
  firstByteSent();
  deps.metrics.sent(last.byteLength);
}

async function mustLocate(
  engine: StorageEngine,
  tenantId: bigint,
  addr: ObjectAddress,
): Promise<LocatedObject> {
  const found = await locate(engine, tenantId, digestOf(addr));
  if (!found) throw new OapError("not_found", `no object ${addr} is visible to this tenant`);
  return found;
}

function headMeta(addr: ObjectAddress, found: LocatedObject): Meta {
  return { addr, size: found.size, ...(found.namespace === "public" ? { public: true } : {}) };
}
