import { randomBytes } from "node:crypto";
import type { IncomingRequest, ResponseWriter } from "@omnigate/sdk";
import { addressOf } from "@omnigate/sdk";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { createLogger } from "../src/log.js";
import { StorageMetrics } from "../src/metrics/storage-metrics.js";
import { BlockPool } from "../src/storage/block-pool.js";
import { get } from "../src/storage/get.js";
import { MemoryEngine } from "../src/storage/memory-engine.js";
import { tenantNamespace } from "../src/storage/namespaces.js";

const KiB = 1024;

/**
 * A response whose connection is stuck: it keeps every chunk by reference, as a socket does,
 * and reports nothing written until told to.
 */
function heldResponse() {
  const chunks: Uint8Array[] = [];
  const unwritten: Array<() => void> = [];
  const keep = (chunk: Uint8Array | undefined, onWritten: (() => void) | undefined) => {
    if (chunk) chunks.push(chunk);
    if (onWritten) unwritten.push(onWritten);
  };
  const res: ResponseWriter = {
    started: false,
    ended: false,
    reply(_code, _meta, body, options) {
      keep(body, options?.onWritten);
      Object.assign(res, { started: true, ended: true });
    },
    async start(_code, _meta, body, options) {
      keep(body, options?.onWritten);
      Object.assign(res, { started: true });
    },
    async write(chunk, options) {
      keep(chunk, options?.onWritten);
    },
    end(chunk, options) {
      keep(chunk, options?.onWritten);
      Object.assign(res, { ended: true });
    },
    fail(error) {
      throw error;
    },
  };
  const body = () => Buffer.concat(chunks);
  const writeAll = () => {
    for (const done of unwritten.splice(0)) done();
  };
  return { res, body, writeAll };
}

function request(tenantId: bigint, addr: string): IncomingRequest {
  const fields = { tenantId, meta: { op: "get", addr }, signal: new AbortController().signal };
  return fields as unknown as IncomingRequest;
}

describe("storage GET read blocks", () => {
  it("go back to the pool only once the connection has written them, and are then reused", async () => {
    const engine = new MemoryEngine(64 * 1024 * KiB);
    const blocks = new BlockPool(32 * 1024 * KiB);
    const deps = {
      engine,
      blocks,
      chunkBytes: 64 * KiB,
      metrics: new StorageMetrics(new Registry()),
      log: createLogger("silent"),
    };
    const store = async (bytes: Buffer) => {
      const addr = await addressOf(bytes);
      const pending = await engine.create(tenantNamespace(1n));
      await pending.write(bytes);
      await pending.commit(addr.slice(3));
      return addr;
    };
    const first = randomBytes(1500 * KiB);
    const second = randomBytes(1500 * KiB);
    const [firstAddr, secondAddr] = [await store(first), await store(second)];

    const held = heldResponse();
    await get(deps, request(1n, firstAddr), held.res);
    // Every block of the first GET is still on its stuck connection: none is idle.
    expect(blocks.idleBytes).toBe(0);

    // A second GET meanwhile must not read into them.
    const other = heldResponse();
    await get(deps, request(1n, secondAddr), other.res);
    other.writeAll();
    expect(other.body().equals(second)).toBe(true);
    expect(held.body().equals(first)).toBe(true);

    // Written, the first GET's blocks go back, and a third GET reads into them.
    const idleBefore = blocks.idleBytes;
    held.writeAll();
    expect(blocks.idleBytes).toBeGreaterThan(idleBefore);
    const third = heldResponse();
    await get(deps, request(1n, secondAddr), third.res);
    expect(third.body().equals(second)).toBe(true);
    expect(held.body().equals(first)).toBe(false); // its buffers now hold the third GET's bytes
  });
});
