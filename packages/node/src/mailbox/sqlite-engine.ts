import { createHash } from "node:crypto";
import { closeSync, fdatasync, openSync } from "node:fs";
import { OapError } from "@omnigate/oap";
import Database from "better-sqlite3";
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
import { MsgIds, seqOf } from "./sql/msg-id.js";
import {
  DEAD,
  DELAYED,
  LEASED,
  type LiveMessage,
  type LiveState,
  QueueIndex,
  READY,
} from "./sql/queue-index.js";
import { LEGACY_MSG_ID_INDEX, MAILBOX_SCHEMA, migrations, SCHEMA_VERSION } from "./sql-schema.js";
import { TopicWaiters, topicKey } from "./waiters.js";

export interface SqlEngineOptions extends EngineRules {
  /** A file path (the sqlite engine) or ":memory:" (the memory engine: nothing on disk). */
  path: string;
  /**
   * "full" (default): a write is answered once it is on disk (durable through power loss);
   * "normal": once it is in the OS (durable through a crash of the node, not of the machine).
   */
  synchronous?: "full" | "normal";
  clock?: Clock;
  count?: MailboxCounter;
}

/** The columns a delivery needs, as a raw row: seq, msg_id, attrs, body, sent_at, e2e. */
type LeasedRow = [number, string, string | null, Buffer, number, number];

interface IndexRow {
  seq: number;
  tenant: string;
  topic: string;
  state: LiveState;
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
 * (`memory`, amnesia mode). Each message is one row written by primary key; which messages
 * are ready, leased or delayed is indexed in memory (QueueIndex), so a message costs an
 * insert, an update per delivery and a delete. All writes go through group commit; long polls
 * wait in process.
 */
export class SqlEngine implements MailboxEngine {
  readonly kind: EngineKind;
  private readonly db: Database.Database;
  private readonly commit: GroupCommit;
  private readonly clock: Clock;
  private readonly waiters: TopicWaiters;
  private readonly ids = new MsgIds();
  private readonly index = new QueueIndex(topicKey);
  private readonly count: MailboxCounter;
  private readonly depthByTenant = new Map<string, number>();
  /** The next message's seq (its row key and part of its msg_id). */
  private nextSeq = 1;
  /** The WAL file, flushed off the event loop before writes are answered (synchronous "full"). */
  private walFd: number | undefined;
  private lastPrune = 0;
  private closed = false;
  private readonly sql;

  constructor(private readonly options: SqlEngineOptions) {
    this.kind = options.path === ":memory:" ? "memory" : "sqlite";
    this.clock = options.clock ?? systemClock;
    this.count = options.count ?? NO_COUNT;
    this.waiters = new TopicWaiters(this.clock);
    this.db = new Database(options.path);
    if (this.kind === "sqlite") {
      this.db.pragma("journal_mode = WAL");
      // SQLite itself never flushes at commit (NORMAL syncs only around checkpoints): for
      // "full", the group commit flushes the WAL on the thread pool before it answers.
      this.db.pragma("synchronous = NORMAL");
    }
    // Pages of a busy mailbox stay in memory instead of being read back through the OS.
    this.db.pragma("cache_size = -65536");
    const legacyIds = this.openSchema();
    const db = this.db;
    this.sql = {
      insert: db.prepare(
        `INSERT INTO messages (seq, msg_id, tenant, topic, attrs, body, sent_at, state, visible_at, attempt, deliveries, e2e) VALUES (?, ?, ?, ?, ?, ?, ?, ${READY}, ?, 0, 0, ?)`,
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
      // A RECV leases the seqs of a JSON array in one statement and reads them in another, as
      // raw rows: one native call each per RECV, not per message, and no object per row.
      lease: db.prepare<[number, string]>(
        `UPDATE messages SET state = ${LEASED}, visible_at = ?, attempt = attempt + 1, deliveries = deliveries + 1 WHERE seq IN (SELECT value FROM json_each(?))`,
      ),
      leased: db
        .prepare<[string], LeasedRow>(
          "SELECT seq, msg_id, attrs, body, sent_at, e2e FROM messages WHERE seq IN (SELECT value FROM json_each(?))",
        )
        .raw(true),
      /** Settling a delivery: the row must still be the message the receipt names. */
      deleteLeased: db.prepare("DELETE FROM messages WHERE seq = ? AND msg_id = ?"),
      setHidden: db.prepare("UPDATE messages SET state = ?, visible_at = ? WHERE seq = ? AND msg_id = ?"),
      toDead: db.prepare(`UPDATE messages SET state = ${DEAD}, last_error = ? WHERE seq = ?`),
      whereIs: db.prepare<[number], { msg_id: string; tenant: string; topic: string; state: number }>(
        "SELECT msg_id, tenant, topic, state FROM messages WHERE seq = ?",
      ),
      legacySeq: legacyIds
        ? db.prepare<[string], { seq: number }>("SELECT seq FROM messages WHERE msg_id = ?")
        : undefined,
      deleteSeq: db.prepare("DELETE FROM messages WHERE seq = ?"),
      deadList: db.prepare<[string, string, number], DeadRow>(
        `SELECT msg_id, topic, attrs, body, sent_at, attempt, last_error, e2e FROM messages WHERE tenant = ? AND topic = ? AND state = ${DEAD} ORDER BY seq LIMIT ?`,
      ),
      deadSeqs: db.prepare<[string, string, number], { seq: number; deliveries: number }>(
        `SELECT seq, deliveries FROM messages WHERE tenant = ? AND topic = ? AND state = ${DEAD} ORDER BY seq LIMIT ?`,
      ),
      redrive: db.prepare(
        `UPDATE messages SET state = ${READY}, visible_at = ?, attempt = 0, last_error = NULL WHERE seq = ?`,
      ),
      purge: db.prepare(`DELETE FROM messages WHERE tenant = ? AND topic = ? AND state = ${DEAD}`),
      deadCount: db.prepare<[], { n: number }>(`SELECT COUNT(*) AS n FROM messages WHERE state = ${DEAD}`),
      tenants: db.prepare<[], { tenant: string; n: number }>(
        "SELECT tenant, COUNT(*) AS n FROM messages GROUP BY tenant",
      ),
      liveRows: db.prepare<[], IndexRow>(
        `SELECT seq, tenant, topic, state, visible_at, attempt, deliveries FROM messages WHERE state != ${DEAD} ORDER BY seq`,
      ),
      maxSeq: db.prepare<[], { seq: number | null }>("SELECT MAX(seq) AS seq FROM messages"),
    };
    this.loadIndex();
    const durable = this.kind === "sqlite" && options.synchronous !== "normal";
    // openSchema wrote the file, so its WAL exists (SQLite removes it only on close).
    const walFd = durable ? openSync(`${options.path}-wal`, "r") : undefined;
    this.walFd = walFd;
    // A failed commit rolled back what the batch did in memory too: read it all again.
    this.commit = new GroupCommit(
      this.db,
      () => this.loadIndex(),
      walFd === undefined ? undefined : (done) => fdatasync(walFd, done),
    );
  }

  send(input: SendInput): Promise<SendResult> {
    return this.run(() => this.sendNow(input));
  }

  recv(input: RecvInput): Promise<Delivery[]> {
    return this.waiters.longPoll(topicKey(input.tenant, input.topic), {
      waitMs: input.waitMs,
      signal: input.signal,
      // A lease lost in a power cut only delivers the message again: answered once committed.
      look: () => this.run(() => this.leaseNow(input), false),
      closed: () => this.closed,
    });
  }

  ack(lease: LeaseRef): Promise<void> {
    return this.run(() => {
      const { message, msgId } = this.liveLease(lease);
      if (this.sql.deleteLeased.run(message.seq, msgId).changes !== 1) throw staleReceipt();
      this.index.remove(message);
      this.addDepth(lease.tenant, -1);
      this.count("acked", 1);
    });
  }

  nack(lease: LeaseRef, delayMs: number, error?: string): Promise<void> {
    return this.run(() => {
      const { message, msgId } = this.liveLease(lease);
      if (message.attempt >= this.options.maxAttempts) {
        if (this.sql.whereIs.get(message.seq)?.msg_id !== msgId) throw staleReceipt();
        this.sql.toDead.run(error ?? "nacked", message.seq);
        this.index.remove(message);
        this.count("dlq", 1);
        return;
      }
      const now = this.clock.now();
      const state = delayMs > 0 ? DELAYED : READY;
      if (this.sql.setHidden.run(state, now + delayMs, message.seq, msgId).changes !== 1)
        throw staleReceipt();
      if (state === DELAYED) this.index.hide(message, DELAYED, now + delayMs);
      else this.index.makeReady(message);
      this.wakeOnCommit(message.queue.key);
    });
  }

  extend(lease: LeaseRef, visibilityMs: number): Promise<void> {
    return this.run(() => {
      const { message, msgId } = this.liveLease(lease);
      const until = this.clock.now() + visibilityMs;
      if (this.sql.setHidden.run(LEASED, until, message.seq, msgId).changes !== 1) throw staleReceipt();
      this.index.hide(message, LEASED, until);
    });
  }

  delete(tenant: string, msgId: string, topic?: string): Promise<boolean> {
    return this.run(() => {
      const seq = this.seqOfId(msgId);
      if (seq === undefined) return false;
      const row = this.sql.whereIs.get(seq);
      if (!row || row.msg_id !== msgId || row.tenant !== tenant) return false;
      if (topic !== undefined && row.topic !== topic) return false;
      this.sql.deleteSeq.run(seq);
      const message = this.index.live.get(seq);
      if (message) this.index.remove(message);
      this.addDepth(tenant, -1);
      return true;
    });
  }

  dlqList(tenant: string, topic: string, max: number): Promise<DeadLetter[]> {
    return this.run(
      () =>
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
      false,
    );
  }

  dlqRedrive(tenant: string, topic: string, max: number): Promise<number> {
    return this.run(() => {
      const now = this.clock.now();
      const rows = this.sql.deadSeqs.all(tenant, topic, max);
      for (const row of rows) {
        this.sql.redrive.run(now, row.seq);
        this.index.add({
          seq: row.seq,
          tenant,
          topic,
          state: READY,
          visibleAt: now,
          attempt: 0,
          deliveries: row.deliveries,
        });
      }
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
    return this.run(
      () => ({ ...this.index.depth(this.clock.now()), dlq: this.sql.deadCount.get()?.n ?? 0 }),
      false,
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.commit.flush();
    this.waiters.wakeAll();
    await this.commit.settled();
    this.closeFiles();
  }

  /** Stops as a killed process would: queued operations are lost, nothing more is written. */
  crash(): void {
    if (this.closed) return;
    this.closed = true;
    this.commit.abandon(new OapError("shutting_down", "the mailbox engine stopped"));
    this.waiters.wakeAll();
    this.closeFiles();
  }

  private closeFiles(): void {
    if (this.walFd !== undefined) closeSync(this.walFd);
    this.walFd = undefined;
    this.db.close();
  }

  private run<T>(op: () => T, durable = true): Promise<T> {
    if (this.closed) return Promise.reject(new OapError("shutting_down", "the mailbox engine is closed"));
    return this.commit.run(op, durable);
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
    const seq = this.nextSeq++;
    const msgId = this.ids.make(now, seq);
    const attrs = input.attrs && Object.keys(input.attrs).length > 0 ? JSON.stringify(input.attrs) : null;
    this.sql.insert.run(
      seq,
      msgId,
      input.tenant,
      input.topic,
      attrs,
      input.body,
      now,
      now,
      input.e2e ? 1 : 0,
    );
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
    const message = this.index.add({
      seq,
      tenant: input.tenant,
      topic: input.topic,
      state: READY,
      visibleAt: now,
      attempt: 0,
      deliveries: 0,
    });
    this.addDepth(input.tenant, 1);
    this.count("enqueued", 1);
    this.pruneDedupe(now);
    this.wakeOnCommit(message.queue.key);
    return { msgId, duplicate: false };
  }

  private leaseNow(input: RecvInput): { deliveries: Delivery[]; nextVisibleAt: number | undefined } {
    const queue = this.index.find(input.tenant, input.topic);
    if (!queue) return { deliveries: [], nextVisibleAt: undefined };
    const now = this.clock.now();
    // Leases and delays that ran out: the last allowed attempt is dead, the rest are ready
    // again in their original place (seq), before everything accepted after them.
    for (const message of this.index.takeDue(queue, now)) {
      if (message.state === LEASED && message.attempt >= this.options.maxAttempts) {
        this.sql.toDead.run(LEASE_EXPIRED_ERROR, message.seq);
        this.index.remove(message);
        this.count("dlq", 1);
      } else {
        this.index.makeReady(message);
      }
    }
    const visibleUntil = now + input.visibilityMs;
    const taken: LiveMessage[] = [];
    while (taken.length < input.max) {
      const message = this.index.takeReady(queue);
      if (!message) break;
      taken.push(message);
    }
    const rows = new Map<number, LeasedRow>();
    if (taken.length > 0) {
      const seqs = JSON.stringify(taken.map((m) => m.seq));
      this.sql.lease.run(visibleUntil, seqs);
      for (const row of this.sql.leased.all(seqs)) rows.set(row[0], row);
    }
    const deliveries: Delivery[] = [];
    for (const message of taken) {
      const row = rows.get(message.seq);
      if (!row) throw new Error(`mailbox index names seq ${message.seq}, which has no row`);
      // The row counted the same delivery: attempt and deliveries are one more than before.
      message.attempt++;
      message.deliveries++;
      this.index.hide(message, LEASED, visibleUntil);
      this.count(message.attempt > 1 ? "redelivered" : "delivered", 1);
      const [, msgId, attrs, body, sentAt, e2e] = row;
      deliveries.push({
        msgId,
        receipt: makeReceipt(msgId, message.deliveries),
        attempt: message.attempt,
        sentAt,
        topic: queue.topic,
        attrs: parseAttrs(attrs),
        body: new Uint8Array(body.buffer, body.byteOffset, body.byteLength),
        e2e: e2e === 1,
      });
    }
    const nextVisibleAt = deliveries.length > 0 ? undefined : this.index.nextVisibleAt(queue);
    return { deliveries, nextVisibleAt };
  }

  /** The message of a receipt whose lease is live now; anything else is stale. */
  private liveLease(lease: LeaseRef): { message: LiveMessage; msgId: string } {
    const { msgId, delivery } = parseReceipt(lease.receipt);
    const seq = this.seqOfId(msgId);
    const message = seq === undefined ? undefined : this.index.live.get(seq);
    if (
      !message ||
      message.queue.tenant !== lease.tenant ||
      (lease.topic !== undefined && message.queue.topic !== lease.topic) ||
      message.state !== LEASED ||
      message.deliveries !== delivery ||
      message.visibleAt <= this.clock.now()
    ) {
      throw staleReceipt();
    }
    // The row's msg_id is compared by the write that settles the lease.
    return { message, msgId };
  }

  /** A file from before version 3 holds random msg_ids under a UNIQUE index: look them up there. */
  private seqOfId(msgId: string): number | undefined {
    return this.sql.legacySeq ? this.sql.legacySeq.get(msgId)?.seq : seqOf(msgId);
  }

  private wakeOnCommit(key: string): void {
    this.commit.onCommit(() => {
      this.waiters.wake(key);
    });
  }

  private addDepth(tenant: string, delta: number): void {
    const next = (this.depthByTenant.get(tenant) ?? 0) + delta;
    if (next > 0) this.depthByTenant.set(tenant, next);
    else this.depthByTenant.delete(tenant);
  }

  /** Brings the file to this layout; true when it still has the UNIQUE index of older msg_ids. */
  private openSchema(): boolean {
    const fresh = this.db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'messages'").get() === undefined;
    const version = this.db.pragma("user_version", { simple: true }) as number;
    this.db.transaction(() => {
      // An older file keeps its table; the migrations bring it to this layout before the
      // schema adds what is missing.
      if (!fresh && version < SCHEMA_VERSION) this.db.exec(migrations(version, this.clock.now()));
      this.db.exec(MAILBOX_SCHEMA);
      // Written on every open: the write also creates the WAL file the engine flushes.
      this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
    })();
    return (
      this.db
        .prepare("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?")
        .get(LEGACY_MSG_ID_INDEX) !== undefined
    );
  }

  /** The in-memory queues, per-tenant depths and next seq, from the rows. */
  private loadIndex(): void {
    this.index.clear();
    for (const row of this.sql.liveRows.iterate()) {
      const { seq, tenant, topic, state, attempt, deliveries } = row;
      this.index.add({ seq, tenant, topic, state, visibleAt: row.visible_at, attempt, deliveries });
    }
    this.depthByTenant.clear();
    for (const { tenant, n } of this.sql.tenants.all()) this.depthByTenant.set(tenant, n);
    this.nextSeq = Math.max(this.nextSeq, (this.sql.maxSeq.get()?.seq ?? 0) + 1);
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
