import { createHash } from "node:crypto";
import { OapError } from "@omnigate/oap";
import Database from "better-sqlite3";
import { monotonicFactory } from "ulid";
import { type Clock, systemClock } from "./clock.js";
import type { MailboxCounter } from "./counters.js";
import {
  type Attrs,
  type DeadLetter,
  type Delivery,
  type DepthByState,
  type EngineKind,
  type EngineRules,
  LEASE_EXPIRED_ERROR,
  type LeaseRef,
  type MailboxEngine,
  type RecvInput,
  type SendInput,
  type SendResult,
} from "./engine.js";
import { GroupCommit } from "./group-commit.js";
import { makeReceipt, parseReceipt, staleReceipt } from "./receipt.js";
import {
  MAILBOX_SCHEMA,
  migrations,
  SCHEMA_VERSION,
  STATE_DEAD,
  STATE_DELAYED,
  STATE_LEASED,
  STATE_READY,
} from "./sql-schema.js";
import { TopicWaiters, topicKey } from "./waiters.js";

export interface SqlEngineOptions extends EngineRules {
  /** A file path (the sqlite engine) or ":memory:" (the memory engine: nothing on disk). */
  path: string;
  /** "full" syncs every commit (durable through power loss); "normal" is durable through a process crash. */
  synchronous?: "full" | "normal";
  clock?: Clock;
  count?: MailboxCounter;
}

interface MessageRow {
  seq: number;
  msg_id: string;
  topic: string;
  attrs: string | null;
  body: Buffer;
  sent_at: number;
  attempt: number;
  deliveries: number;
  e2e: number;
}

interface LeaseRow {
  seq: number;
  tenant: string;
  topic: string;
  state: number;
  visible_at: number;
  attempt: number;
  deliveries: number;
}

interface DeadRow {
  msg_id: string;
  topic: string;
  attrs: string | null;
  body: Buffer;
  sent_at: number;
  attempt: number;
  last_error: string | null;
  e2e: number;
}

const DEDUPE_PRUNE_EVERY_MS = 60_000;
const DEDUPE_PRUNE_BATCH = 10_000;
const NO_COUNT: MailboxCounter = () => {};

/**
 * The SQL engine: SQLite in WAL mode on a file (`sqlite`), or on an in-memory database
 * (`memory`, amnesia mode). All writes go through group commit; long polls wait in process.
 */
export class SqlEngine implements MailboxEngine {
  readonly kind: EngineKind;
  private readonly db: Database.Database;
  private readonly commit: GroupCommit;
  private readonly clock: Clock;
  private readonly waiters: TopicWaiters;
  private readonly nextId: (seedTime?: number) => string;
  private readonly count: MailboxCounter;
  private readonly depthByTenant = new Map<string, number>();
  /** Bumped on every wake of a topic, so a long poll notices a wake that raced its lease query. */
  private readonly wakeVersion = new Map<string, number>();
  private lastPrune = 0;
  private closed = false;
  private readonly sql;

  constructor(private readonly options: SqlEngineOptions) {
    this.kind = options.path === ":memory:" ? "memory" : "sqlite";
    this.clock = options.clock ?? systemClock;
    this.count = options.count ?? NO_COUNT;
    this.waiters = new TopicWaiters(this.clock);
    this.nextId = monotonicFactory();
    this.db = new Database(options.path);
    if (this.kind === "sqlite") {
      this.db.pragma("journal_mode = WAL");
      this.db.pragma(`synchronous = ${options.synchronous === "normal" ? "NORMAL" : "FULL"}`);
    }
    this.openSchema();
    const db = this.db;
    this.sql = {
      insert: db.prepare(
        "INSERT INTO messages (msg_id, tenant, topic, attrs, body, sent_at, state, visible_at, attempt, deliveries, e2e) VALUES (?, ?, ?, ?, ?, ?, 0, ?, 0, 0, ?)",
      ),
      dedupeGet: db.prepare<
        [string, string, string],
        { msg_id: string; body_hash: Buffer; expires_at: number }
      >("SELECT msg_id, body_hash, expires_at FROM dedupe WHERE tenant = ? AND topic = ? AND idem_key = ?"),
      dedupePut: db.prepare(
        "INSERT OR REPLACE INTO dedupe (tenant, topic, idem_key, msg_id, body_hash, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
      ),
      dedupePrune: db.prepare(
        "DELETE FROM dedupe WHERE rowid IN (SELECT rowid FROM dedupe WHERE expires_at <= ? LIMIT ?)",
      ),
      expireLastLeases: db.prepare(
        `UPDATE messages SET state = ${STATE_DEAD}, last_error = ? WHERE tenant = ? AND topic = ? AND state IN (${STATE_LEASED}, ${STATE_DELAYED}) AND visible_at <= ? AND state = ${STATE_LEASED} AND attempt >= ?`,
      ),
      surfaceDue: db.prepare(
        `UPDATE messages SET state = ${STATE_READY} WHERE tenant = ? AND topic = ? AND state IN (${STATE_LEASED}, ${STATE_DELAYED}) AND visible_at <= ?`,
      ),
      ready: db.prepare<[string, string, number], MessageRow>(
        `SELECT seq, msg_id, topic, attrs, body, sent_at, attempt, deliveries, e2e FROM messages WHERE tenant = ? AND topic = ? AND state = ${STATE_READY} ORDER BY seq LIMIT ?`,
      ),
      nextVisible: db.prepare<[string, string, number], { at: number | null }>(
        `SELECT MIN(visible_at) AS at FROM messages WHERE tenant = ? AND topic = ? AND state IN (${STATE_LEASED}, ${STATE_DELAYED}) AND visible_at > ?`,
      ),
      lease: db.prepare(
        `UPDATE messages SET state = ${STATE_LEASED}, visible_at = ?, attempt = attempt + 1, deliveries = deliveries + 1 WHERE seq = ?`,
      ),
      byId: db.prepare<[string], LeaseRow>(
        "SELECT seq, tenant, topic, state, visible_at, attempt, deliveries FROM messages WHERE msg_id = ?",
      ),
      deleteSeq: db.prepare("DELETE FROM messages WHERE seq = ?"),
      toDead: db.prepare(`UPDATE messages SET state = ${STATE_DEAD}, last_error = ? WHERE seq = ?`),
      toWaiting: db.prepare("UPDATE messages SET state = ?, visible_at = ? WHERE seq = ?"),
      setVisible: db.prepare("UPDATE messages SET visible_at = ? WHERE seq = ?"),
      deadList: db.prepare<[string, string, number], DeadRow>(
        "SELECT msg_id, topic, attrs, body, sent_at, attempt, last_error, e2e FROM messages WHERE tenant = ? AND topic = ? AND state = 2 ORDER BY seq LIMIT ?",
      ),
      deadSeqs: db.prepare<[string, string, number], { seq: number }>(
        "SELECT seq FROM messages WHERE tenant = ? AND topic = ? AND state = 2 ORDER BY seq LIMIT ?",
      ),
      redrive: db.prepare(
        `UPDATE messages SET state = ${STATE_READY}, visible_at = ?, attempt = 0, last_error = NULL WHERE seq = ?`,
      ),
      purge: db.prepare("DELETE FROM messages WHERE tenant = ? AND topic = ? AND state = 2"),
      depth: db.prepare<[number], { state: number; due: number; n: number }>(
        "SELECT state, visible_at <= ? AS due, COUNT(*) AS n FROM messages GROUP BY state, due",
      ),
      tenants: db.prepare<[], { tenant: string; n: number }>(
        "SELECT tenant, COUNT(*) AS n FROM messages GROUP BY tenant",
      ),
    };
    this.loadTenantDepths();
    this.commit = new GroupCommit(this.db, () => this.loadTenantDepths());
  }

  send(input: SendInput): Promise<SendResult> {
    return this.run(() => this.sendNow(input));
  }

  async recv(input: RecvInput): Promise<Delivery[]> {
    const key = topicKey(input.tenant, input.topic);
    const deadline = this.clock.now() + input.waitMs;
    for (;;) {
      const version = this.wakeVersion.get(key) ?? 0;
      const { deliveries, nextVisibleAt } = await this.run(() => this.leaseNow(input));
      if (deliveries.length > 0 || this.closed || input.signal?.aborted) return deliveries;
      const now = this.clock.now();
      if (now >= deadline) return [];
      if ((this.wakeVersion.get(key) ?? 0) !== version) continue;
      const until = Math.min(deadline, nextVisibleAt ?? deadline);
      // The clock may have passed a lease's end while the lease query was out: look again.
      if (until <= now) continue;
      await this.waiters.wait(key, until - now, input.signal);
    }
  }

  ack(lease: LeaseRef): Promise<void> {
    return this.run(() => {
      const row = this.liveLease(lease);
      this.sql.deleteSeq.run(row.seq);
      this.addDepth(lease.tenant, -1);
      this.count("acked", 1);
    });
  }

  nack(lease: LeaseRef, delayMs: number, error?: string): Promise<void> {
    return this.run(() => {
      const row = this.liveLease(lease);
      if (row.attempt >= this.options.maxAttempts) {
        this.sql.toDead.run(error ?? "nacked", row.seq);
        this.count("dlq", 1);
        return;
      }
      this.sql.toWaiting.run(delayMs > 0 ? STATE_DELAYED : STATE_READY, this.clock.now() + delayMs, row.seq);
      this.wakeOnCommit(topicKey(lease.tenant, row.topic));
    });
  }

  extend(lease: LeaseRef, visibilityMs: number): Promise<void> {
    return this.run(() => {
      const row = this.liveLease(lease);
      this.sql.setVisible.run(this.clock.now() + visibilityMs, row.seq);
    });
  }

  delete(tenant: string, msgId: string, topic?: string): Promise<boolean> {
    return this.run(() => {
      const row = this.sql.byId.get(msgId);
      if (!row || row.tenant !== tenant || (topic !== undefined && row.topic !== topic)) return false;
      this.sql.deleteSeq.run(row.seq);
      this.addDepth(tenant, -1);
      return true;
    });
  }

  dlqList(tenant: string, topic: string, max: number): Promise<DeadLetter[]> {
    return this.run(() =>
      this.sql.deadList.all(tenant, topic, max).map((row) => ({
        msgId: row.msg_id,
        topic: row.topic,
        attempts: row.attempt,
        sentAt: row.sent_at,
        lastError: row.last_error ?? "",
        attrs: parseAttrs(row.attrs),
        body: new Uint8Array(row.body),
        e2e: row.e2e === 1,
      })),
    );
  }

  dlqRedrive(tenant: string, topic: string, max: number): Promise<number> {
    return this.run(() => {
      const now = this.clock.now();
      const rows = this.sql.deadSeqs.all(tenant, topic, max);
      for (const row of rows) this.sql.redrive.run(now, row.seq);
      if (rows.length > 0) this.wakeOnCommit(topicKey(tenant, topic));
      return rows.length;
    });
  }

  dlqPurge(tenant: string, topic: string): Promise<number> {
    return this.run(() => {
      const removed = this.sql.purge.run(tenant, topic).changes;
      this.addDepth(tenant, -removed);
      return removed;
    });
  }

  depth(): Promise<DepthByState> {
    return this.run(() => {
      const depth: DepthByState = { ready: 0, inflight: 0, delayed: 0, dlq: 0 };
      for (const { state, due, n } of this.sql.depth.all(this.clock.now())) {
        if (state === STATE_DEAD) depth.dlq += n;
        else if (due) depth.ready += n;
        else if (state === STATE_LEASED) depth.inflight += n;
        else depth.delayed += n;
      }
      return depth;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.commit.flush();
    this.waiters.wakeAll();
    this.db.close();
  }

  /** Stops as a killed process would: queued operations are lost, nothing more is written. */
  crash(): void {
    if (this.closed) return;
    this.closed = true;
    this.commit.abandon(new OapError("shutting_down", "the mailbox engine stopped"));
    this.waiters.wakeAll();
    this.db.close();
  }

  private run<T>(op: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new OapError("shutting_down", "the mailbox engine is closed"));
    return this.commit.run(op);
  }

  private sendNow(input: SendInput): SendResult {
    const now = this.clock.now();
    let bodyHash: Buffer | undefined;
    if (input.idemKey !== undefined) {
      bodyHash = createHash("sha256").update(input.body).digest();
      const seen = this.sql.dedupeGet.get(input.tenant, input.topic, input.idemKey);
      if (seen && seen.expires_at > now) {
        if (!seen.body_hash.equals(bodyHash)) {
          throw new OapError(
            "conflict",
            "this idempotency key was used with a different body; use a new key",
          );
        }
        return { msgId: seen.msg_id, duplicate: true };
      }
    }
    if ((this.depthByTenant.get(input.tenant) ?? 0) >= this.options.maxDepthPerTenant) {
      throw new OapError("quota", "the tenant's mailbox is full; consume or purge messages, then retry", {
        retryAfterMs: 1000,
      });
    }
    const msgId = this.nextId(now);
    const attrs = input.attrs && Object.keys(input.attrs).length > 0 ? JSON.stringify(input.attrs) : null;
    this.sql.insert.run(msgId, input.tenant, input.topic, attrs, input.body, now, now, input.e2e ? 1 : 0);
    if (bodyHash) {
      this.sql.dedupePut.run(
        input.tenant,
        input.topic,
        input.idemKey,
        msgId,
        bodyHash,
        now + this.options.dedupeWindowMs,
      );
    }
    this.addDepth(input.tenant, 1);
    this.count("enqueued", 1);
    this.pruneDedupe(now);
    this.wakeOnCommit(topicKey(input.tenant, input.topic));
    return { msgId, duplicate: false };
  }

  private leaseNow(input: RecvInput): { deliveries: Delivery[]; nextVisibleAt: number | undefined } {
    const now = this.clock.now();
    const { tenant, topic } = input;
    // Leases and delays that ran out: the last allowed attempt is dead, the rest are ready
    // again in their original place (seq), before everything accepted after them.
    const dead = this.sql.expireLastLeases.run(
      LEASE_EXPIRED_ERROR,
      tenant,
      topic,
      now,
      this.options.maxAttempts,
    ).changes;
    if (dead > 0) this.count("dlq", dead);
    this.sql.surfaceDue.run(tenant, topic, now);
    const rows = this.sql.ready.all(tenant, topic, input.max);
    const visibleUntil = now + input.visibilityMs;
    const deliveries: Delivery[] = [];
    for (const row of rows) {
      this.sql.lease.run(visibleUntil, row.seq);
      const attempt = row.attempt + 1;
      this.count(attempt > 1 ? "redelivered" : "delivered", 1);
      deliveries.push({
        msgId: row.msg_id,
        receipt: makeReceipt(row.msg_id, row.deliveries + 1),
        attempt,
        sentAt: row.sent_at,
        topic: row.topic,
        attrs: parseAttrs(row.attrs),
        body: new Uint8Array(row.body.buffer, row.body.byteOffset, row.body.byteLength),
        e2e: row.e2e === 1,
      });
    }
    const nextVisibleAt =
      deliveries.length > 0 ? undefined : (this.sql.nextVisible.get(tenant, topic, now)?.at ?? undefined);
    return { deliveries, nextVisibleAt };
  }

  /** The message of a receipt whose lease is live now; anything else is stale. */
  private liveLease(lease: LeaseRef): LeaseRow {
    const { msgId, delivery } = parseReceipt(lease.receipt);
    const row = this.sql.byId.get(msgId);
    if (
      !row ||
      row.tenant !== lease.tenant ||
      (lease.topic !== undefined && row.topic !== lease.topic) ||
      row.state !== STATE_LEASED ||
      row.deliveries !== delivery ||
      row.visible_at <= this.clock.now()
    ) {
      throw staleReceipt();
    }
    return row;
  }

  private wakeOnCommit(key: string): void {
    this.commit.onCommit(() => {
      this.wakeVersion.set(key, (this.wakeVersion.get(key) ?? 0) + 1);
      this.waiters.wake(key);
    });
  }

  private openSchema(): void {
    const fresh = this.db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'messages'").get() === undefined;
    const version = this.db.pragma("user_version", { simple: true }) as number;
    this.db.transaction(() => {
      // An older file keeps its table; the migrations bring it to this layout before the
      // schema adds what is missing (the new indexes).
      if (!fresh && version < SCHEMA_VERSION) this.db.exec(migrations(version, this.clock.now()));
      this.db.exec(MAILBOX_SCHEMA);
      if (version !== SCHEMA_VERSION) this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
    })();
  }

  private addDepth(tenant: string, delta: number): void {
    const next = (this.depthByTenant.get(tenant) ?? 0) + delta;
    if (next > 0) this.depthByTenant.set(tenant, next);
    else this.depthByTenant.delete(tenant);
  }

  private loadTenantDepths(): void {
    this.depthByTenant.clear();
    for (const { tenant, n } of this.sql.tenants.all()) this.depthByTenant.set(tenant, n);
  }

  private pruneDedupe(now: number): void {
    if (now - this.lastPrune < DEDUPE_PRUNE_EVERY_MS) return;
    this.lastPrune = now;
    this.sql.dedupePrune.run(now, DEDUPE_PRUNE_BATCH);
  }
}

function parseAttrs(json: string | null): Attrs {
  return json ? (JSON.parse(json) as Attrs) : {};
}
