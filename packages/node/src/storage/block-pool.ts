/**
 * Read buffers for GETs, reused once the connection has written them.
 *
 * A fresh buffer per read lives on in the socket's queue past a scavenge or two, so V8 promotes
 * it and only a full mark-compact frees its memory. Under many concurrent GETs that was a
 * mark-compact every few dozen MiB served, about a quarter of the node's CPU. Reusing blocks
 * takes the allocation out of the read path.
 */
export class BlockPool {
  private readonly free = new Map<number, Buffer[]>();
  private pooledBytes = 0;

  /** `maxPooledBytes` bounds the memory kept idle between bursts. */
  constructor(private readonly maxPooledBytes: number) {}

  /** A buffer of exactly `bytes` bytes, contents undefined. */
  acquire(bytes: number): Buffer {
    const block = this.free.get(bytes)?.pop();
    if (!block) return Buffer.allocUnsafeSlow(bytes);
    this.pooledBytes -= bytes;
    return block;
  }

  /** Gives a block back; only once nothing reads or writes it any more. */
  release(block: Buffer): void {
    if (this.pooledBytes + block.byteLength > this.maxPooledBytes) return;
    let list = this.free.get(block.byteLength);
    if (!list) {
      list = [];
      this.free.set(block.byteLength, list);
    }
    list.push(block);
    this.pooledBytes += block.byteLength;
  }

  /** Bytes held idle now (for tests). */
  get idleBytes(): number {
    return this.pooledBytes;
  }
}

/**
 * One pooled block shared by the chunks cut from it: it goes back to the pool when its owner
 * has dropped it and every chunk handed out with hold() has been written.
 */
export class SharedBlock {
  readonly bytes: Buffer;
  private holds = 1;

  constructor(
    private readonly pool: BlockPool,
    size: number,
  ) {
    this.bytes = pool.acquire(size);
  }

  /** One more user of the block; call what it returns (once) when done with it. */
  hold(): () => void {
    this.holds++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.drop();
    };
  }

  /** The owner is done with the block. */
  drop(): void {
    if (--this.holds === 0) this.pool.release(this.bytes);
  }
}
