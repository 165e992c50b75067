/**
 * `storage.put` (one of the run's 512 seeded objects) and `storage.get` (an object put
 * before, bytes compared).
 *
 * The SDK refreshes the capability and resends for request(), not for streams. A storage
 * stream refused with 401 because the harness revoked the token is resent once here, after a
 * request (the node's echo) made the client refresh, as an application would. That is up to
 * three round trips, each with its own deadline, in one tracked call: on the 401 the call's
 * watchdog is extended by two deadlines (calls.ts), so a slow but correct resend is counted by
 * how it ends, not as hung.
 */
import { type OapClient, OapRequestError } from "@omnigate/sdk";
import type { Call, OpContext } from "./calls.js";
import { ECHO_APP } from "./op-echo.js";
import { BLOBS, blob } from "./payloads.js";

export class StorageOps {
  /** Object index → address, for every object put so far. */
  private readonly stored = new Map<number, string>();
  /** Streams resent once after a 401 for a capability the harness revoked. */
  resends = 0;

  constructor(private readonly ctx: OpContext) {}

  /** Nothing put yet (a GET has nothing to read). */
  get empty(): boolean {
    return this.stored.size === 0;
  }

  async put(client: OapClient, call: Call): Promise<void> {
    const i = Math.floor(this.ctx.random() * BLOBS);
    const bytes = blob(this.ctx.seed, i);
    const result = await this.capResend(client, call, () =>
      client.storage.put(bytes, { deadlineMs: this.ctx.deadlineMs }),
    );
    this.stored.set(i, result.addr);
  }

  async get(client: OapClient, call: Call): Promise<void> {
    const keys = [...this.stored.keys()];
    const i = keys[Math.floor(this.ctx.random() * keys.length)] as number;
    const addr = this.stored.get(i) as string;
    const got = await this.capResend(client, call, () =>
      client.storage.getBytes(addr as `b3:${string}`, { deadlineMs: this.ctx.deadlineMs }),
    );
    if (!got.equals(blob(this.ctx.seed, i))) throw this.ctx.mismatch("stored object differs");
  }

  private async capResend<T>(client: OapClient, call: Call, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof OapRequestError) || err.code !== 401) throw err;
      this.resends++;
      // Two more round trips (the refreshing echo, the resend), each with its own deadline.
      call.extend(2);
      await client.request(ECHO_APP, { body: "", deadlineMs: this.ctx.deadlineMs });
      return fn();
    }
  }
}
