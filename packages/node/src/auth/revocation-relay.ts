import { Redis } from "ioredis";
import type { Logger } from "../log.js";
import type { RevocationInput, RevocationStore } from "./revocations.js";

const CHANNEL = "omnigate:revocations";

interface RelayMessage {
  origin: string;
  revocation: RevocationInput;
}

/**
 * Shares revocations between nodes through Redis pub/sub: a node publishes what it revoked,
 * every other node applies it to its own store (which drops duplicates). Pub/sub is
 * fire-and-forget, so a node that was disconnected also replays the shared list on
 * (re)connect: every revocation is also appended to a Redis list.
 */
export class RevocationRelay {
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private closed = false;

  private constructor(
    url: string,
    private readonly nodeId: string,
    private readonly store: RevocationStore,
    private readonly log: Logger,
  ) {
    const options = { lazyConnect: true, maxRetriesPerRequest: 2, enableOfflineQueue: true };
    this.publisher = new Redis(url, options);
    this.subscriber = new Redis(url, options);
    for (const client of [this.publisher, this.subscriber]) {
      client.on("error", (err: Error) =>
        this.log.warn({ err: err.message }, "revocation relay: redis error"),
      );
    }
    this.subscriber.on("message", (_channel: string, text: string) => void this.received(text));
    this.subscriber.on("ready", () => void this.catchUp());
  }

  static async start(
    url: string,
    nodeId: string,
    store: RevocationStore,
    log: Logger,
  ): Promise<RevocationRelay> {
    const relay = new RevocationRelay(url, nodeId, store, log);
    await Promise.all([relay.publisher.connect(), relay.subscriber.connect()]);
    await relay.subscriber.subscribe(CHANNEL);
    return relay;
  }

  /** Sends a revocation made on this node to the others. */
  async publish(revocation: RevocationInput): Promise<void> {
    const message = JSON.stringify({ origin: this.nodeId, revocation } satisfies RelayMessage);
    await this.publisher.multi().rpush(`${CHANNEL}:log`, message).publish(CHANNEL, message).exec();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.subscriber.disconnect();
    this.publisher.disconnect();
  }

  private async catchUp(): Promise<void> {
    try {
      for (const text of await this.publisher.lrange(`${CHANNEL}:log`, 0, -1)) await this.received(text);
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, "revocation relay: could not replay the shared list");
    }
  }

  private async received(text: string): Promise<void> {
    // Nothing is applied after close: the store's writes are then waited for and its files may go.
    if (this.closed) return;
    let message: RelayMessage;
    try {
      message = JSON.parse(text) as RelayMessage;
    } catch {
      this.log.warn("revocation relay: ignored a message that is not JSON");
      return;
    }
    if (message.origin === this.nodeId || !isRevocation(message.revocation)) return;
    const applied = await this.store.apply(message.revocation);
    if (applied) this.log.info({ rev_seq: applied.seq, origin: message.origin }, "revocation received");
  }
}

function isRevocation(value: unknown): value is RevocationInput {
  if (typeof value !== "object" || value === null) return false;
  const r = value as Record<string, unknown>;
  if (r.kind === "token") return typeof r.token_id === "string" && r.token_id.length <= 64;
  return r.kind === "tenant_epoch" && typeof r.tenant === "string" && Number.isSafeInteger(r.epoch);
}
