import { OapError } from "@omnigate/oap";
import type { IncomingRequest, ResponseWriter } from "@omnigate/sdk";
import { Blake3TreeBuilder } from "@omnigate/sdk/internal";
import { capped } from "../util/capped-body.js";
import { addressFromMeta, addressOfDigest, digestOf, type ObjectAddress } from "./address.js";
import type { PendingObject, StorageEngine } from "./engine.js";
import { PUBLIC_NAMESPACE, tenantNamespace } from "./namespaces.js";

/**
 * PUT: streams the body into a new object while hashing it as a BLAKE3 tree of 64 KiB groups,
 * then publishes it under its address (the tree's root, the plain BLAKE3 of the bytes) with
 * the tree's outboard, which verified GETs prove each group with. Idempotent: the same bytes again answer the same address (`created: false`).
 * Meta: `expected` (an address the bytes must have, else 409 conflict and nothing is
 * stored), `size` (the announced length, refused at once when over the limit), `public`.
 */
export async function put(
  engine: StorageEngine,
  maxObjectBytes: number,
  req: IncomingRequest,
  res: ResponseWriter,
  onPublic?: (addr: ObjectAddress) => void,
): Promise<void> {
  const meta = req.meta;
  const expected = meta.expected === undefined ? undefined : addressFromMeta(meta, "expected");
  if (meta.public !== undefined && typeof meta.public !== "boolean") {
    throw new OapError("bad_meta", 'meta "public" must be true or false');
  }
  if (typeof meta.size === "number" && meta.size > maxObjectBytes) throw tooLarge(maxObjectBytes);
  const namespace = meta.public === true ? PUBLIC_NAMESPACE : tenantNamespace(req.tenantId);

  const tree = new Blake3TreeBuilder();
  const pending: PendingObject = await engine.create(namespace);
  try {
    let size = 0;
    for await (const chunk of capped(req.body, maxObjectBytes, () => tooLarge(maxObjectBytes))) {
      size += chunk.byteLength;
      tree.update(chunk);
      await pending.write(chunk);
    }
    const { root, outboard } = tree.finish();
    const addr = addressOfDigest(Buffer.from(root).toString("hex"));
    if (expected !== undefined && expected !== addr) {
      throw new OapError(
        "conflict",
        `the body hashes to ${addr}, not the expected ${expected}; nothing was stored`,
      );
    }
    const created = await pending.commit(digestOf(addr), outboard);
    res.reply(200, { addr, size, created, ...(namespace === PUBLIC_NAMESPACE ? { public: true } : {}) });
    if (namespace === PUBLIC_NAMESPACE) onPublic?.(addr);
  } finally {
    await pending.abort();
  }
}

/** Stores `bytes` in `namespace` as one object (what a PUT does, for bytes already in hand). */
export async function storeBytes(
  engine: StorageEngine,
  namespace: string,
  bytes: Uint8Array,
): Promise<ObjectAddress> {
  const tree = new Blake3TreeBuilder();
  tree.update(bytes);
  const { root, outboard } = tree.finish();
  const addr = addressOfDigest(Buffer.from(root).toString("hex"));
  const pending = await engine.create(namespace);
  try {
    await pending.write(bytes);
    await pending.commit(digestOf(addr), outboard);
    return addr;
  } finally {
    await pending.abort();
  }
}

function tooLarge(limit: number): OapError {
  return new OapError(
    "payload_too_large",
    `objects are limited to ${limit} bytes (storage.max_object_bytes)`,
  );
}
