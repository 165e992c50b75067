import { OapError } from "@omnigate/oap";
import { createBlake3, type IncomingRequest, type ResponseWriter } from "@omnigate/sdk";
import { capped } from "../util/capped-body.js";
import { addressFromMeta, addressOfDigest, digestOf } from "./address.js";
import type { PendingObject, StorageEngine } from "./engine.js";
import { PUBLIC_NAMESPACE, tenantNamespace } from "./namespaces.js";

/**
 * PUT: streams the body into a new object while hashing it, then publishes it under its
 * address. Idempotent: the same bytes again answer the same address (`created: false`).
 * Meta: `expected` (an address the bytes must have, else 409 conflict and nothing is
 * stored), `size` (the announced length, refused at once when over the limit), `public`.
 */
export async function put(
  engine: StorageEngine,
  maxObjectBytes: number,
  req: IncomingRequest,
  res: ResponseWriter,
): Promise<void> {
  const meta = req.meta;
  const expected = meta.expected === undefined ? undefined : addressFromMeta(meta, "expected");
  if (meta.public !== undefined && typeof meta.public !== "boolean") {
    throw new OapError("bad_meta", 'meta "public" must be true or false');
  }
  if (typeof meta.size === "number" && meta.size > maxObjectBytes) throw tooLarge(maxObjectBytes);
  const namespace = meta.public === true ? PUBLIC_NAMESPACE : tenantNamespace(req.tenantId);

  const hasher = await createBlake3();
  const pending: PendingObject = await engine.create(namespace);
  try {
    let size = 0;
    for await (const chunk of capped(req.body, maxObjectBytes, () => tooLarge(maxObjectBytes))) {
      size += chunk.byteLength;
      hasher.update(chunk);
      await pending.write(chunk);
    }
    const addr = addressOfDigest(hasher.digestHex());
    if (expected !== undefined && expected !== addr) {
      throw new OapError(
        "conflict",
        `the body hashes to ${addr}, not the expected ${expected}; nothing was stored`,
      );
    }
    const created = await pending.commit(digestOf(addr));
    res.reply(200, { addr, size, created, ...(namespace === PUBLIC_NAMESPACE ? { public: true } : {}) });
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
