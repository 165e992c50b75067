import { closeSync, ftruncateSync, openSync, rmSync } from "node:fs";
import { join } from "node:path";
import { OapRequestError, type StorageAddress, StorageChunkError } from "@omnigate/sdk";
import { afterEach, describe, expect, it } from "vitest";
import type { FsEngine } from "../../packages/node/src/index.js";
import { tenantNamespace } from "../../packages/node/src/storage/namespaces.js";
import { flipByte } from "../support/flip-byte.js";
import { TestScope } from "../support/scope.js";
import { seededRandom } from "../support/seeded-random.js";
import { KiB, randomBytes, storageClient } from "./support.js";

const scope = new TestScope();
afterEach(() => scope.close());

const GROUP = 64 * KiB;

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<{ bytes: Buffer; error?: unknown }> {
  const got: Uint8Array[] = [];
  try {
    for await (const chunk of chunks) got.push(Uint8Array.from(chunk));
  } catch (error) {
    return { bytes: Buffer.concat(got), error };
  }
  return { bytes: Buffer.concat(got) };
}

/** Where the fs engine keeps an object's outboard. */
function outboardPath(dataDir: string, namespace: string, addr: StorageAddress): string {
  const hex = addr.slice(3);
  return join(dataDir, "storage", "outboards", namespace, hex.slice(0, 2), hex.slice(2, 4), hex);
}

async function nodeWithObject(size: number) {
  const node = await scope.node();
  const client = await storageClient(scope, node);
  const data = randomBytes(size);
  const { addr } = await client.storage.put(data);
  const engine = node.storage.engine as FsEngine;
  const namespace = tenantNamespace(1n);
  return { node, client, data, addr, engine, namespace, path: engine.pathOf(namespace, addr.slice(3)) };
}

describe("chunk-verified GET (verify: chunks)", () => {
  it("returns whole objects and any range verified, for sizes around the group boundaries", async () => {
    const node = await scope.node();
    const client = await storageClient(scope, node);
    const random = seededRandom(18);
    for (const size of [0, 1, GROUP - 1, GROUP, GROUP + 1, 5 * GROUP + 777, 16 * GROUP]) {
      const data = randomBytes(size);
      const { addr } = await client.storage.put(data);
      const whole = await client.storage.getBytes(addr, { verify: "chunks" });
      expect(whole.equals(data), `size ${size}`).toBe(true);
      const reader = client.storage.get(addr, { verify: "chunks" });
      expect((await reader.head()).code).toBe(200);
      await collect(reader);
      if (size === 0) continue;
      for (let i = 0; i < 6; i++) {
        const start = Math.floor(random() * size);
        const end = start + Math.floor(random() * (size - start));
        const got = await client.storage.getBytes(addr, { verify: "chunks", range: `${start}-${end}` });
        expect(got.equals(data.subarray(start, end + 1)), `size ${size} range ${start}-${end}`).toBe(true);
      }
      const suffix = await client.storage.getBytes(addr, { verify: "chunks", range: "-100" });
      expect(suffix.equals(data.subarray(Math.max(0, size - 100)))).toBe(true);
    }
  });

  it("keeps an outboard of (groups − 1) × 64 bytes beside each object, ≤ 0.5% of it", async () => {
    for (const groups of [1, 2, 3, 64]) {
      const { engine, namespace, addr } = await nodeWithObject(groups * GROUP - 5);
      const outboard = await engine.readOutboard(namespace, addr.slice(3));
      expect(outboard?.byteLength ?? 0).toBe((groups - 1) * 64);
      expect((outboard?.byteLength ?? 0) / (groups * GROUP)).toBeLessThanOrEqual(0.005);
    }
  });

  it("a flipped byte fails exactly the group that holds it; the groups before it arrive", async () => {
    const size = 8 * GROUP + 1000;
    const { client, data, addr, path } = await nodeWithObject(size);
    const random = seededRandom(7);
    for (let trial = 0; trial < 3; trial++) {
      const offset = Math.floor(random() * size);
      const group = Math.floor(offset / GROUP);
      flipByte(path, offset);
      const whole = await collect(client.storage.get(addr, { verify: "chunks" }));
      expect(whole.error).toBeInstanceOf(StorageChunkError);
      expect((whole.error as StorageChunkError).groupIndex).toBe(group);
      expect((whole.error as StorageChunkError).offset).toBe(group * GROUP);
      expect(whole.bytes.equals(data.subarray(0, group * GROUP))).toBe(true);
      // A range that does not touch the damaged group verifies; one that does fails at it.
      const clean = group === 0 ? { start: GROUP, end: 2 * GROUP - 1 } : { start: 0, end: group * GROUP - 1 };
      const ok = await client.storage.getBytes(addr, {
        verify: "chunks",
        range: `${clean.start}-${clean.end}`,
      });
      expect(ok.equals(data.subarray(clean.start, clean.end + 1))).toBe(true);
      const hit = await collect(client.storage.get(addr, { verify: "chunks", range: `${offset}-${offset}` }));
      expect((hit.error as StorageChunkError).groupIndex).toBe(group);
      expect(hit.bytes.byteLength).toBe(0);
      flipByte(path, offset);
    }
    expect((await client.storage.getBytes(addr, { verify: "chunks" })).equals(data)).toBe(true);
  });

  it("makes the outboard of an object stored without one on its first verified GET", async () => {
    const { client, data, addr, engine, namespace, node } = await nodeWithObject(3 * GROUP + 17);
    const outboardFile = outboardPath(node.config.dataDir, namespace, addr);
    rmSync(outboardFile);
    expect(await engine.readOutboard(namespace, addr.slice(3))).toBeUndefined();
    expect((await client.storage.getBytes(addr, { verify: "chunks" })).equals(data)).toBe(true);
    // 4 groups: 3 parent nodes of 64 bytes.
    expect((await engine.readOutboard(namespace, addr.slice(3)))?.byteLength).toBe(3 * 64);
  });

  it("an object whose outboard cannot be made (its bytes are damaged) is quarantined: 500 object_corrupt", async () => {
    const { client, addr, engine, namespace, node, path } = await nodeWithObject(3 * GROUP);
    const outboardFile = outboardPath(node.config.dataDir, namespace, addr);
    rmSync(outboardFile);
    flipByte(path, 5);
    const failed = await client.storage.getBytes(addr, { verify: "chunks" }).catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(OapRequestError);
    expect((failed as OapRequestError).reason).toBe("object_corrupt");
    expect(await engine.size(namespace, addr.slice(3))).toBeUndefined();
  });

  it("refuses an unknown verify mode with 400 bad_meta", async () => {
    const { client, addr } = await nodeWithObject(100);
    const reply = await client
      .request(0x0301, { meta: { op: "get", addr, verify: "sometimes" } })
      .catch((error: unknown) => error);
    expect((reply as OapRequestError).code).toBe(400);
    expect((reply as OapRequestError).reason).toBe("bad_meta");
  });

  it("a short read (the file shrank under the node) fails the stream, never a quiet short reply", async () => {
    const { client, addr, path } = await nodeWithObject(4 * GROUP);
    const fd = openSync(path, "r+");
    // Truncate to 2.5 groups behind the node's back.
    ftruncateSync(fd, 2 * GROUP + GROUP / 2);
    closeSync(fd);
    const got = await collect(client.storage.get(addr as StorageAddress, { verify: "chunks" }));
    expect(got.error).toBeDefined();
    expect(got.bytes.byteLength).toBeLessThanOrEqual(2 * GROUP);
  });
});
