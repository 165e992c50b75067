import { OapError } from "@omnigate/oap";
import { Blake3TreeBuilder, outboardBytes } from "@omnigate/sdk/internal";
import type { Logger } from "../log.js";
import { digestOf, type ObjectAddress } from "./address.js";
import type { StorageEngine } from "./engine.js";

const EMPTY = new Uint8Array(0);
/** Bytes per read while rebuilding an outboard. */
const REBUILD_READ_BYTES = 512 * 1024;

/**
 * The object's outboard, checked for its length. An object stored before outboards existed (or
 * whose outboard file went missing) gets one made now from its bytes, once: the bytes are read
 * through the tree builder, and an object whose root is not its address is quarantined (500
 * object_corrupt) instead of being served with a proof that could never verify.
 */
export async function loadOutboard(
  engine: StorageEngine,
  namespace: string,
  addr: ObjectAddress,
  size: number,
  log: Logger,
): Promise<Uint8Array> {
  const expected = outboardBytes(size);
  if (expected === 0) return EMPTY;
  const kept = await engine.readOutboard(namespace, digestOf(addr));
  if (kept && kept.byteLength === expected) return kept;
  const rebuilt = await rebuild(engine, namespace, addr, size);
  if (!rebuilt) {
    await engine.quarantine(namespace, digestOf(addr));
    log.error(
      { addr, namespace },
      "storage object failed verification while its outboard was made; quarantined",
    );
    throw new OapError(
      "object_corrupt",
      `object ${addr} failed verification in the node; it was taken out of the store`,
    );
  }
  await engine.writeOutboard(namespace, digestOf(addr), rebuilt);
  log.info(
    { addr, namespace, outboard_bytes: rebuilt.byteLength },
    "storage outboard made for an older object",
  );
  return rebuilt;
}

async function rebuild(
  engine: StorageEngine,
  namespace: string,
  addr: ObjectAddress,
  size: number,
): Promise<Uint8Array | undefined> {
  const reader = await engine.openReader(namespace, digestOf(addr));
  if (!reader) throw new OapError("not_found", `object ${addr} was removed while being read`);
  const tree = new Blake3TreeBuilder();
  const buffer = new Uint8Array(REBUILD_READ_BYTES);
  try {
    for (let at = 0; at < size; ) {
      const read = await reader.read(buffer.subarray(0, Math.min(buffer.byteLength, size - at)), at);
      if (read === 0) return undefined;
      tree.update(buffer.subarray(0, read));
      at += read;
    }
  } finally {
    await reader.close();
  }
  const { root, outboard } = tree.finish();
  return Buffer.from(root).toString("hex") === digestOf(addr) ? outboard : undefined;
}
