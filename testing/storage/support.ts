import { randomFillSync } from "node:crypto";
import { connect, type OapClient, type StorageAddress } from "@omnigate/sdk";
import { createBLAKE3 } from "hash-wasm";
import { FsEngine, type OmnigateNode } from "../../packages/node/src/index.js";
import { tenantNamespace } from "../../packages/node/src/storage/namespaces.js";
import type { TestScope } from "../support/scope.js";

export const KiB = 1024;
export const MiB = 1024 * KiB;

/** A client of `node` for `tenant`, closed with the scope. */
export async function storageClient(
  scope: TestScope,
  node: { oapUrl: string; caPem: string | undefined },
  tenant = 1n,
  extra: { maxBufferedBytes?: number } = {},
): Promise<OapClient> {
  const client = await connect(node.oapUrl, { ca: node.caPem, tenant, defaultDeadlineMs: 120_000, ...extra });
  scope.defer(() => client.close());
  return client;
}

/**
 * `size` random bytes as a stream of fresh chunks (never held together), and the address they
 * hash to once the stream has been read to its end.
 */
export function randomStream(
  size: number,
  chunkBytes = MiB,
): { chunks: AsyncIterable<Uint8Array>; addr(): StorageAddress } {
  let addr: StorageAddress | undefined;
  async function* chunks(): AsyncIterable<Uint8Array> {
    const hasher = await createBLAKE3();
    hasher.init();
    for (let sent = 0; sent < size; ) {
      const chunk = randomFillSync(Buffer.allocUnsafe(Math.min(chunkBytes, size - sent)));
      hasher.update(chunk);
      sent += chunk.byteLength;
      yield chunk;
    }
    addr = `b3:${hasher.digest("hex")}`;
  }
  return {
    chunks: chunks(),
    addr: () => {
      if (!addr) throw new Error("the stream was not read to its end");
      return addr;
    },
  };
}

export function randomBytes(size: number): Buffer {
  return randomFillSync(Buffer.allocUnsafe(size));
}

/** Reads a GET to its end without keeping it: bytes, and the BLAKE3 address of what arrived. */
export async function drain(
  chunks: AsyncIterable<Uint8Array>,
): Promise<{ bytes: number; addr: StorageAddress }> {
  const hasher = await createBLAKE3();
  hasher.init();
  let bytes = 0;
  for await (const chunk of chunks) {
    bytes += chunk.byteLength;
    hasher.update(chunk);
  }
  return { bytes, addr: `b3:${hasher.digest("hex")}` };
}

/** Where the fs engine keeps a tenant's object (tests damage it there). */
export function objectPath(node: OmnigateNode, tenant: bigint, addr: StorageAddress): string {
  const engine = node.storage.engine;
  if (!(engine instanceof FsEngine)) throw new Error("the node does not run the fs engine");
  return engine.pathOf(tenantNamespace(tenant), addr.slice(3));
}
