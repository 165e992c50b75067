import { createHash, randomBytes } from "node:crypto";
import { AppProtoId } from "@omnigate/oap";
import { type OapClient, OapClientError, type StorageAddress } from "../../packages/sdk/src/index.js";

/** What every call of the load records: enough to judge the kill tests' acceptance. */
export interface LoadRecord {
  /** Calls answered with success, by kind. */
  ok: Record<LoadOp, number>;
  /** Calls that failed; every one must be retryable (a failed call is not retried by the load). */
  failures: Array<{ op: LoadOp; reason: string; retryable: boolean; message: string }>;
  /** Settled calls that took longer than their deadline plus the slack below. */
  overDeadline: number;
  /** The longest a call took over its deadline, in ms (≤ 0: every call ended in time). */
  worstOverDeadlineMs: number;
}

export type LoadOp = "echo" | "send" | "put" | "get";

export interface ClusterLoadOptions {
  topic: string;
  echoWorkers?: number;
  senders?: number;
  storers?: number;
  /** Size of each stored object (default 256 KiB: four verified 64 KiB groups). */
  objectBytes?: number;
  /** Deadline of each call (default 8 s). */
  deadlineMs?: number;
}

/** A deadline is judged with this slack: timers fire late on a loaded two-core machine. */
const DEADLINE_SLACK_MS = 1_000;

/**
 * A mixed load through one SDK client of a cluster: idempotent echo requests, mailbox SENDs
 * with an idempotency key (consumed by one subscription that acks each message), and storage
 * PUTs of random objects, each read back with per-chunk verification. Answered SENDs and stored
 * objects are remembered, so the test can check that none was lost after the kills.
 */
export class ClusterLoad {
  readonly record: LoadRecord = {
    ok: { echo: 0, send: 0, put: 0, get: 0 },
    failures: [],
    overDeadline: 0,
    worstOverDeadlineMs: Number.NEGATIVE_INFINITY,
  };
  /** Bodies of SENDs the node answered. */
  readonly answeredSends = new Set<string>();
  /** Bodies the subscription received. */
  readonly received = new Set<string>();
  /** Objects the node stored: address → SHA-256 of the bytes. */
  readonly stored = new Map<StorageAddress, string>();
  private running = false;
  private workers: Promise<void>[] = [];
  private readonly stopSubscription = new AbortController();
  private subscription: Promise<void> | undefined;
  private readonly deadlineMs: number;
  /** When each successful call settled, by kind, in order. */
  private readonly answeredAt: Record<LoadOp, number[]> = { echo: [], send: [], put: [], get: [] };

  constructor(
    private readonly client: OapClient,
    private readonly options: ClusterLoadOptions,
  ) {
    this.deadlineMs = options.deadlineMs ?? 8_000;
  }

  /** Calls answered with success so far. */
  get answered(): number {
    const ok = this.record.ok;
    return ok.echo + ok.send + ok.put + ok.get;
  }

  /** When the first call of `op` answered after `since` settled (undefined: none yet). */
  firstAnswerAfter(op: LoadOp, since: number): number | undefined {
    return this.answeredAt[op].find((at) => at > since);
  }

  /** Calls of `op` answered with success in (from, to]. */
  answeredBetween(op: LoadOp, from: number, to: number): number {
    return this.answeredAt[op].filter((at) => at > from && at <= to).length;
  }

  /**
   * The longest time in [from, to] with no call of `op` answered: how long that rail stalled
   * around a fault (the edges count, so a rail that never answered again stalls to `to`).
   */
  longestStall(op: LoadOp, from: number, to: number): number {
    let last = from;
    let longest = 0;
    for (const at of this.answeredAt[op]) {
      if (at <= from) continue;
      if (at > to) break;
      longest = Math.max(longest, at - last);
      last = at;
    }
    return Math.max(longest, to - last);
  }

  start(): void {
    this.running = true;
    this.subscription = this.consume();
    const o = this.options;
    for (let w = 0; w < (o.echoWorkers ?? 3); w++) this.workers.push(this.loop((n) => this.echo(w, n)));
    for (let s = 0; s < (o.senders ?? 2); s++) this.workers.push(this.loop((n) => this.send(s, n)));
    for (let p = 0; p < (o.storers ?? 1); p++) this.workers.push(this.loop(() => this.putAndGet()));
  }

  /** Stops new calls and waits for those in flight; the subscription keeps consuming. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.workers);
  }

  /** Waits until the subscription has received every answered SEND, or `withinMs` passed. */
  async drained(withinMs: number): Promise<string[]> {
    const until = Date.now() + withinMs;
    let missing = this.missingSends();
    while (missing.length > 0 && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      missing = this.missingSends();
    }
    this.stopSubscription.abort();
    await this.subscription;
    return missing;
  }

  private missingSends(): string[] {
    return [...this.answeredSends].filter((body) => !this.received.has(body));
  }

  private async loop(call: (n: number) => Promise<void>): Promise<void> {
    for (let n = 0; this.running; n++) await call(n);
  }

  private async echo(worker: number, n: number): Promise<void> {
    const body = `echo ${worker}/${n}`;
    await this.timed("echo", async () => {
      const reply = await this.client.request(AppProtoId.ECHO, {
        body,
        idempotencyKey: `echo-${worker}-${n}-${process.pid}`,
        deadlineMs: this.deadlineMs,
      });
      if (Buffer.from(reply.body).toString() !== body) throw new Error(`echo of ${body} came back changed`);
    });
  }

  private async send(sender: number, n: number): Promise<void> {
    const body = `send ${sender}/${n}/${process.pid}`;
    await this.timed("send", async () => {
      await this.client.mailbox.send(this.options.topic, body, {
        idemKey: `send-${sender}-${n}-${process.pid}`,
        deadlineMs: this.deadlineMs,
      });
      this.answeredSends.add(body);
    });
  }

  /** A PUT of fresh random bytes, then a chunk-verified GET of them; a PUT is idempotent by address. */
  private async putAndGet(): Promise<void> {
    const bytes = randomBytes(this.options.objectBytes ?? 256 * 1024);
    const digest = sha256(bytes);
    let addr: StorageAddress | undefined;
    await this.timed("put", async () => {
      addr = (await this.client.storage.put(bytes, { deadlineMs: this.deadlineMs })).addr;
      this.stored.set(addr, digest);
    });
    if (addr === undefined) return;
    const stored = addr;
    await this.timed("get", async () => {
      const back = await this.client.storage.getBytes(stored, {
        verify: "chunks",
        deadlineMs: this.deadlineMs,
      });
      if (sha256(back) !== digest) throw new Error(`GET ${stored} returned other bytes`);
    });
  }

  private async consume(): Promise<void> {
    const messages = this.client.mailbox.subscribe(this.options.topic, {
      credit: 32,
      visibilityMs: 3_000,
      signal: this.stopSubscription.signal,
    });
    try {
      for await (const msg of messages) {
        this.received.add(msg.body.toString());
        // A lost ack only means a redelivery: at-least-once.
        await msg.ack().catch(() => {});
      }
    } catch (err) {
      if (!this.stopSubscription.signal.aborted) throw err;
    }
  }

  private async timed(op: LoadOp, call: () => Promise<void>): Promise<void> {
    const started = Date.now();
    try {
      await call();
      this.record.ok[op]++;
      this.answeredAt[op].push(Date.now());
    } catch (err) {
      // Byte mismatches and other non-client errors are failures that are not retryable.
      const client = err instanceof OapClientError ? err : undefined;
      this.record.failures.push({
        op,
        reason: client?.reason ?? "wrong_result",
        retryable: client?.retryable ?? false,
        message: (err as Error).message,
      });
    } finally {
      const over = Date.now() - started - this.deadlineMs;
      this.record.worstOverDeadlineMs = Math.max(this.record.worstOverDeadlineMs, over);
      if (over > DEADLINE_SLACK_MS) this.record.overDeadline++;
    }
  }
}

export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}
