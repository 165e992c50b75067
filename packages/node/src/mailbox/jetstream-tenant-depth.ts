interface Known {
  stored: number;
  readAt: number;
}

/**
 * Each tenant's stored-message count for the depth limit, read from the stream (the count of
 * every node's messages) at most every `maxAgeMs` and counted up locally in between, so a
 * SEND does not cost a stream-info request. A SEND is refused only on a fresh count: a stale
 * one can be low by what other nodes stored since (the limit is not a hard cap across nodes
 * anyway), never make a refusal that a fresh count would not. The age is wall time: it paces
 * reads and is no part of the mailbox's rules.
 */
export class TenantDepth {
  private readonly known = new Map<string, Known>();
  private readonly reading = new Map<string, Promise<Known>>();

  constructor(
    private readonly readStored: (tenant: string) => Promise<number>,
    private readonly maxAgeMs: number,
  ) {}

  /** Counts one more message for the tenant if it fits under `limit`; false when it does not. */
  async admit(tenant: string, limit: number): Promise<boolean> {
    let known = this.known.get(tenant);
    if (!known || performance.now() - known.readAt > this.maxAgeMs) known = await this.refresh(tenant);
    if (known.stored + 1 > limit) known = await this.refresh(tenant, true);
    if (known.stored + 1 > limit) return false;
    known.stored += 1;
    return true;
  }

  /** Gives back what `admit` counted for a message that was not stored after all. */
  release(tenant: string): void {
    const known = this.known.get(tenant);
    if (known && known.stored > 0) known.stored -= 1;
  }

  /** Reads the count; `fresh` waits for a read that starts now rather than one already out. */
  private async refresh(tenant: string, fresh = false): Promise<Known> {
    const pending = this.reading.get(tenant);
    if (pending && !fresh) return await pending;
    const started = performance.now();
    const read = this.readStored(tenant).then((stored) => {
      const known = { stored, readAt: started };
      this.known.set(tenant, known);
      return known;
    });
    this.reading.set(tenant, read);
    try {
      return await read;
    } finally {
      if (this.reading.get(tenant) === read) this.reading.delete(tenant);
    }
  }
}
