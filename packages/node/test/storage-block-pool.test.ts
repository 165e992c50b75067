import { describe, expect, it } from "vitest";
import { BlockPool, SharedBlock } from "../src/storage/block-pool.js";

describe("BlockPool and SharedBlock", () => {
  it("hands a block back out only after its owner and every holder let go of it", () => {
    const pool = new BlockPool(1024 * 1024);
    const block = new SharedBlock(pool, 1000);
    const first = block.hold();
    const second = block.hold();
    block.drop();
    first();
    first(); // a second call of the same release counts once
    expect(pool.idleBytes).toBe(0);
    expect(pool.acquire(1000)).not.toBe(block.bytes);
    second();
    expect(pool.idleBytes).toBe(1000);
    expect(pool.acquire(1000)).toBe(block.bytes);
    expect(pool.idleBytes).toBe(0);
  });

  it("keeps blocks by size and no more idle bytes than its bound", () => {
    const pool = new BlockPool(2500);
    const blocks = [pool.acquire(1000), pool.acquire(1000), pool.acquire(1000), pool.acquire(64)];
    for (const block of blocks) pool.release(block);
    expect(pool.idleBytes).toBe(2064);
    expect(pool.acquire(64)).toBe(blocks[3]);
    expect(pool.acquire(1000).byteLength).toBe(1000);
    expect(pool.acquire(500).byteLength).toBe(500);
  });
});
