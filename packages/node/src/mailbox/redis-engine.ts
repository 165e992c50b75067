import { createHash } from "node:crypto";
import { OapError } from "@omnigate/oap";
import { Redis } from "ioredis";
import { monotonicFactory } from "ulid";
import { engineUnavailable } from "../util/engine-unavailable.js";
import { type Clock, systemClock } from "./clock.js";
import type { MailboxCounter } from "./counters.js";
import type {
  Attrs,
  DeadLetter,
  Delivery,
  DepthByState,
  EngineKind,
  EngineRules,
  LeaseRef,
  MailboxEngine,
  RecvInput,
  SendInput,
  SendResult,
} from "./engine.js";
import { makeReceipt, parseReceipt, staleReceipt } from "./receipt.js";
import * as scripts from "./redis-scripts.js";
import { TopicWaiters, topicKey } from "./waiters.js";

export interface RedisEngineOptions extends EngineRules {
  url: string;
  /** Prefix of every key, so several mailboxes (or tests) share one Redis. */
  keyPrefix: string;
  /** A long poll looks again at least this often, for messages sent through other nodes. */
  pollMs?: number;
  clock?: Clock;
  count?: MailboxCounter;
}

const DEFAULT_POLL_MS = 1000;
const NO_COUNT: MailboxCounter = () => {};

/**
 * The Redis engine, for several nodes sharing one mailbox: one stream and one consumer group
 * per (tenant, topic), with lease ends, delays and dead letters in sorted sets beside it
 * (layout in redis-scripts.ts). Every step is one Lua script, so it is atomic across nodes;
 * Redis persistence (AOF) decides durability. Long polls are woken in process by this node's
 * own writes and poll for the rest.
 */
export class RedisEngine implements MailboxEngine {
  readonly kind: EngineKind = "redis";
  private readonly redis: Redis;
  private readonly clock: Clock;
  private readonly count: MailboxCounter;
  private readonly waiters: TopicWaiters;
  private readonly nextId = monotonicFactory();
  private readonly shas = new Map<string, string>();
  private closed = false;

  constructor(private readonly options: RedisEngineOptions) {
    this.clock = options.clock ?? systemClock;
    this.count = options.count ?? NO_COUNT;
    this.waiters = new TopicWaiters(this.clock);
    this.redis = new Redis(options.url, { maxRetriesPerRequest: 2, enableOfflineQueue: true });
    this.redis.on("error", () => {}); // surfaced by the commands that fail
  }

  async send(input: SendInput): Promise<SendResult> {
    const now = this.clock.now();
    const hash = input.idemKey === undefined ? "" : createHash("sha256").update(input.body).digest("hex");
    const attrs = input.attrs && Object.keys(input.attrs).length > 0 ? JSON.stringify(input.attrs) : "";
    const [kind, msgId] = (await this.run(scripts.SEND, [
      input.tenant,
      input.topic,
      this.nextId(now),
      Buffer.from(input.body),
      attrs,
      now,
      input.idemKey ?? "",
      hash,
      this.options.dedupeWindowMs,
      this.options.maxDepthPerTenant,
      input.e2e ? 1 : 0,
    ])) as Buffer[];
    switch (kind?.toString()) {
      case "dup":
        return { msgId: String(msgId), duplicate: true };
      case "conflict":
        throw new OapError("conflict", "this idempotency key was used with a different body; use a new key");
      case "quota":
        throw new OapError("quota", "the tenant's mailbox is full; consume or purge messages, then retry", {
          retryAfterMs: 1000,
        });
    }
    this.count("enqueued", 1);
    this.waiters.wake(topicKey(input.tenant, input.topic));
    return { msgId: String(msgId), duplicate: false };
  }

  recv(input: RecvInput): Promise<Delivery[]> {
    return this.waiters.longPoll(topicKey(input.tenant, input.topic), {
      waitMs: input.waitMs,
      signal: input.signal,
      look: () => this.leaseNow(input),
      closed: () => this.closed,
      pollMs: this.options.pollMs ?? DEFAULT_POLL_MS,
    });
  }

  ack(lease: LeaseRef): Promise<void> {
    return this.lease(lease, "ack", 0);
  }

  nack(lease: LeaseRef, delayMs: number, error?: string): Promise<void> {
    return this.lease(lease, "nack", delayMs, error ?? "nacked");
  }

  extend(lease: LeaseRef, visibilityMs: number): Promise<void> {
    return this.lease(lease, "extend", visibilityMs);
  }

  async delete(tenant: string, msgId: string, topic?: string): Promise<boolean> {
    return Number(await this.run(scripts.DELETE, [tenant, msgId, topic ?? ""])) === 1;
  }

  async dlqList(tenant: string, topic: string, max: number): Promise<DeadLetter[]> {
    const flat = (await this.run(scripts.DLQ_LIST, [tenant, topic, max])) as Buffer[];
    const out: DeadLetter[] = [];
    for (let i = 0; i + 6 < flat.length; i += 7) {
      out.push({
        msgId: String(flat[i]),
        attempts: Number(String(flat[i + 1])),
        sentAt: Number(String(flat[i + 2])),
        lastError: String(flat[i + 3]),
        attrs: parseAttrs(String(flat[i + 4])),
        body: new Uint8Array(flat[i + 5] as Buffer),
        e2e: String(flat[i + 6]) === "1",
        topic,
      });
    }
    return out;
  }

  async dlqRedrive(tenant: string, topic: string, max: number): Promise<number> {
    const moved = Number(await this.run(scripts.DLQ_REDRIVE, [tenant, topic, max, this.clock.now()]));
    if (moved > 0) this.waiters.wake(topicKey(tenant, topic));
    return moved;
  }

  async dlqPurge(tenant: string, topic: string): Promise<number> {
    return Number(await this.run(scripts.DLQ_PURGE, [tenant, topic]));
  }

  async depth(): Promise<DepthByState> {
    const [ready, inflight, delayed, dlq] = (await this.run(scripts.DEPTH, [this.clock.now()])) as number[];
    return { ready: Number(ready), inflight: Number(inflight), delayed: Number(delayed), dlq: Number(dlq) };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.waiters.wakeAll();
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  private async leaseNow(
    input: RecvInput,
  ): Promise<{ deliveries: Delivery[]; nextVisibleAt: number | undefined }> {
    const flat = (await this.run(scripts.RECV, [
      input.tenant,
      input.topic,
      this.clock.now(),
      input.max,
      input.visibilityMs,
      this.options.maxAttempts,
    ])) as Buffer[];
    const nextVisible = Number(String(flat[0]));
    const dead = Number(String(flat[1]));
    if (dead > 0) this.count("dlq", dead);
    const deliveries: Delivery[] = [];
    for (let i = 2; i + 6 < flat.length; i += 7) {
      const msgId = String(flat[i]);
      const attempt = Number(String(flat[i + 2]));
      this.count(attempt > 1 ? "redelivered" : "delivered", 1);
      deliveries.push({
        msgId,
        receipt: makeReceipt(msgId, Number(String(flat[i + 1]))),
        attempt,
        sentAt: Number(String(flat[i + 3])),
        topic: input.topic,
        attrs: parseAttrs(String(flat[i + 4])),
        body: new Uint8Array(flat[i + 5] as Buffer),
        e2e: String(flat[i + 6]) === "1",
      });
    }
    return { deliveries, nextVisibleAt: nextVisible >= 0 ? nextVisible : undefined };
  }

  private async lease(lease: LeaseRef, op: string, ms: number, error = ""): Promise<void> {
    const { tenant } = lease;
    const { msgId, delivery } = parseReceipt(lease.receipt);
    const [outcome, topic] = (await this.run(scripts.LEASE, [
      tenant,
      msgId,
      delivery,
      this.clock.now(),
      op,
      ms,
      error,
      this.options.maxAttempts,
      lease.topic ?? "",
    ])) as Buffer[];
    switch (outcome?.toString()) {
      case "stale":
        throw staleReceipt();
      case "acked":
        this.count("acked", 1);
        return;
      case "dead":
        this.count("dlq", 1);
        return;
      case "nacked":
        this.waiters.wake(topicKey(tenant, String(topic)));
        return;
    }
  }

  /** Runs a script by its SHA, loading it on first use (or after Redis forgot it). */
  private async run(script: string, args: Array<string | number | Buffer>): Promise<unknown> {
    if (this.closed) throw new OapError("shutting_down", "the mailbox engine is closed");
    const argv = [this.options.keyPrefix, ...args];
    let sha = this.shas.get(script);
    if (!sha) {
      sha = String(
        await this.redis.script("LOAD", script).catch((err: unknown) => {
          throw engineUnavailable("the mailbox's Redis", err);
        }),
      );
      this.shas.set(script, sha);
    }
    try {
      return await this.redis.callBuffer("EVALSHA", sha, 0, ...argv);
    } catch (err) {
      if (String(err).includes("NOSCRIPT")) {
        this.shas.delete(script);
        return this.run(script, args);
      }
      // Redis down is an answer for this request, not a crash of the mailbox.
      throw engineUnavailable("the mailbox's Redis", err);
    }
  }
}

function parseAttrs(json: string): Attrs {
  return json ? (JSON.parse(json) as Attrs) : {};
}
