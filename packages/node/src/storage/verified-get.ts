import { performance } from "node:perf_hooks";
import { type Meta, OapError } from "@omnigate/oap";
import type { IncomingRequest, ResponseWriter } from "@omnigate/sdk";
import { encodeGroupRecordHead, GROUP_BYTES, groupSpanFor, proofFor } from "@omnigate/sdk/internal";
import { digestOf, type ObjectAddress } from "./address.js";
import { SharedBlock } from "./block-pool.js";
import type { GetDeps } from "./get-deps.js";
import type { LocatedObject } from "./namespaces.js";
import { loadOutboard } from "./outboard.js";
import type { ByteSpan } from "./range.js";

/** Groups read at most at once (8 × 64 KiB), as a plain GET reads 8 chunks. */
const MAX_BLOCK_GROUPS = 8;

/** What a chunk-verified GET serves: the object, the span asked for, its reply code. */
export interface VerifiedGetPlan {
  addr: ObjectAddress;
  found: LocatedObject;
  span: ByteSpan;
  code: number;
  /** The head a plain GET would send (addr, size, length, range, public). */
  head: Meta;
  arrived: number;
}

/**
 * GET with meta `verify: "chunks"` (docs/storage.md, specs/oap-1.md §11.3): the reply carries
 * every 64 KiB group that overlaps the span, each after the sibling chaining values that prove
 * it against the address, so the reader checks each group before using it — ranges included.
 * The head adds `verify`, `group_bytes` and `groups` ("first-last"); `length` stays the span's
 * byte count, which the reader keeps after trimming the outer groups.
 *
 * The node does not hash what it sends: the proof is the reader's to check. A short read
 * (the file shrank under the node) fails the stream with 500 object_corrupt.
 */
export async function verifiedGet(
  deps: GetDeps,
  req: IncomingRequest,
  res: ResponseWriter,
  plan: VerifiedGetPlan,
) {
  const { addr, found, span, code, arrived } = plan;
  const outboard = await loadOutboard(deps.engine, found.namespace, addr, found.size, deps.log);
  const { firstGroup, lastGroup } = groupSpanFor(span.start, span.end, found.size);
  await res.start(code, {
    ...plan.head,
    verify: "chunks",
    group_bytes: GROUP_BYTES,
    groups: `${firstGroup}-${lastGroup}`,
  });
  deps.metrics.firstByteAfter((performance.now() - arrived) / 1000);
  const reader = await deps.engine.openReader(found.namespace, digestOf(addr), firstGroup * GROUP_BYTES);
  if (!reader) return res.fail(new OapError("not_found", `object ${addr} was removed while being read`));
  try {
    let blockGroups = 1;
    for (let group = firstGroup; group <= lastGroup; ) {
      const count = Math.min(blockGroups, lastGroup - group + 1);
      const start = group * GROUP_BYTES;
      const want = Math.min(count * GROUP_BYTES, found.size - start);
      const block = new SharedBlock(deps.blocks, count * GROUP_BYTES);
      const read = want === 0 ? 0 : await reader.read(block.bytes.subarray(0, want), start);
      if (req.signal.aborted || res.ended) return block.drop();
      if (read !== want) {
        block.drop();
        return res.fail(shrunk(addr));
      }
      let accepted: Promise<void> | undefined;
      for (let i = 0; i < count; i++) {
        const at = i * GROUP_BYTES;
        const bytes = block.bytes.subarray(at, Math.min(at + GROUP_BYTES, read));
        res.write(encodeGroupRecordHead(proofFor(outboard, found.size, group + i))).catch(() => {});
        accepted = res.write(bytes, { onWritten: block.hold() });
        accepted.catch(() => {});
        deps.metrics.sent(bytes.byteLength);
      }
      block.drop();
      // One wait per block, as a plain GET: a slow reader holds about one block per stream.
      await accepted;
      group += count;
      blockGroups = Math.min(blockGroups * 2, MAX_BLOCK_GROUPS);
    }
  } finally {
    await reader.close();
  }
  if (!req.signal.aborted && !res.ended) res.end();
}

function shrunk(addr: ObjectAddress): OapError {
  return new OapError("object_corrupt", `object ${addr} is shorter than its size in the node`);
}
