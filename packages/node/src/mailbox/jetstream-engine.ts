import { createHash } from "node:crypto";
import {
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
  type PubAck,
} from "@nats-io/jetstream";
// Pinned to 3.3: from 3.4 the client pulls in @nats-io/nuid 3, whose package.json asks for Node 22.
import { connect, headers, type MsgHdrs, type NatsConnection } from "@nats-io/transport-node";
import { OapError } from "@omnigate/oap";
import { engineUnavailable } from "../util/engine-unavailable.js";
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
import { AckedRemovals } from "./jetstream-acked-removals.js";
import { casPublish } from "./jetstream-cas.js";
import {
  JetStreamNames,
  makeJetStreamReceipt,
  msgIdOf,
  parseJetStreamReceipt,
  seqOfMsgId,
} from "./jetstream-names.js";
import { lastOnSubject, readAfter, subjectCounts } from "./jetstream-reads.js";
import { type MessageCopy, SentCache } from "./jetstream-sent-cache.js";
import { ensureStreams } from "./jetstream-streams.js";
import { TenantDepth } from "./jetstream-tenant-depth.js";
import { DEFAULT_MAX_RECORD_BYTES, stateFull, TopicStateLog } from "./jetstream-topic-log.js";
import {
  applyExpiries,
  countStates,
  dropPassedDeletions,
  encodeTopicState,
  floorOf,
  nextVisibleAt,
  sequencesIn,
  type TopicState,
} from "./jetstream-topic-state.js";
import { staleReceipt } from "./receipt.js";
import { type TopicLook, TopicWaiters, topicKey } from "./waiters.js";

/**
 * How long one JetStream request waits for its answer. An R3 write answers in milliseconds to
 * a few hundred under load; past this the server is taken as gone and the request is refused
 * as 503 (retried by clients), instead of holding it for the client library's default 5 s.
 */
const REQUEST_TIMEOUT_MS = 2_000;
/**
 * How long a SEND waits for a message or record the cluster has accepted to become readable
 * (replicated writes are readable once the leader applied them), and how often it looks.
 */
const VISIBLE_WAIT_MS = 1_000;
const VISIBLE_POLL_MS = 10;

export interface JetStreamEngineOptions extends EngineRules {
  /** Servers of the NATS cluster; the client moves to another one when its server goes away. */
  urls: string[];
  /** Copies of every stream (3 = survives the loss of one server). */
  replicas: number;
  /** Prefix of the streams and subjects, so several mailboxes (or tests) share one cluster. */
  streamPrefix: string;
  /** A long poll looks again at least this often, for NACKs and redrives on other nodes. */
  pollMs?: number;
  /** Largest size of a topic's state record (default 768 KiB, under NATS's 1 MiB max_payload). */
  maxStateBytes?: number;
  clock?: Clock;
  count?: MailboxCounter;
}

interface Nats {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  log: TopicStateLog;
  removals: AckedRemovals;
}

interface IdemRecord {
  seq: number;
  sentAt: number;
  hash: string;
}

const DEFAULT_POLL_MS = 1000;
/** How stale a tenant's stored count may be before a SEND reads it again. */
const DEPTH_READ_EVERY_MS = 500;
/** Bodies of messages this node stored, kept for RECVs on this node (jetstream-sent-cache.ts). */
const SENT_CACHE_BYTES = 16 * 1024 * 1024;
/** A lease's entry in a topic's state record, at most (JSON; a 13-digit time, short counts). */
const LEASE_ENTRY_BYTES = 128;
/** What a redelivery adds to its entry, at most: a lease end, and a digit more in two counts. */
const RELEASE_BYTES = 32;
/** How long an acked message above its topic's floor waits for a purge before it is removed alone. */
const HOLE_HOLD_MS = 1000;
const NO_COUNT: MailboxCounter = () => {};
const SENT_AT = "Om-Sent-At";
const ATTRS = "Om-Attrs";
const E2E = "Om-E2e";
const BODY_HASH = "Om-Body-Hash";

/**
 * The JetStream engine, for several nodes sharing one mailbox on a NATS cluster: messages in
 * an R3 stream (one subject per tenant and topic, the stream sequence as identity), each
 * topic's delivery state in one record changed by compare-and-set, idempotency keys in
 * records of their own. Leases run on the node's clock, like every other engine's, because
 * JetStream's own (one AckWait per consumer, redelivery on the server's clock, no way to
 * refuse a stale ack) cannot keep the mailbox's rules; docs/mailbox.md says what differs.
 */
export class JetStreamEngine implements MailboxEngine {
  readonly kind: EngineKind = "jetstream";
  private readonly names: JetStreamNames;
  private readonly clock: Clock;
  private readonly count: MailboxCounter;
  private readonly waiters: TopicWaiters;
  private nats: Promise<Nats> | undefined;
  private closed = false;
  private readonly depthOf = new TenantDepth((tenant) => this.storedOf(tenant), DEPTH_READ_EVERY_MS);
  private readonly sent = new SentCache(SENT_CACHE_BYTES);

  constructor(private readonly options: JetStreamEngineOptions) {
    if (options.urls.length === 0) throw new Error("the jetstream mailbox engine needs NATS urls");
    this.names = new JetStreamNames(options.streamPrefix);
    this.clock = options.clock ?? systemClock;
    this.count = options.count ?? NO_COUNT;
    this.waiters = new TopicWaiters(this.clock);
    this.connection().catch(() => {}); // surfaced by the operations that wait for it
  }

  send(input: SendInput): Promise<SendResult> {
    return this.guard(async ({ js }) => {
      const now = this.clock.now();
      const subject = this.names.messageSubject(input.tenant, input.topic);
      const meta = headers();
      meta.set(SENT_AT, String(now));
      if (input.attrs && Object.keys(input.attrs).length > 0) {
        meta.set(ATTRS, Buffer.from(JSON.stringify(input.attrs)).toString("base64url"));
      }
      if (input.e2e) meta.set(E2E, "1");
      if (input.idemKey === undefined) {
        const ack = await this.storeCounted(input.tenant, () =>
          js.publish(subject, input.body, { headers: meta }),
        );
        this.stored(input, subject, meta, ack.seq);
        return { msgId: msgIdOf(now, ack.seq), duplicate: false };
      }
      return await this.sendOnce(input, subject, meta, now);
    });
  }

  recv(input: RecvInput): Promise<Delivery[]> {
    const key = topicKey(input.tenant, input.topic);
    return this.guard(({ nc }) =>
      this.waiters.longPoll(key, {
        waitMs: input.waitMs,
        signal: input.signal,
        look: () => this.leaseNow(input),
        closed: () => this.closed,
        pollMs: this.options.pollMs ?? DEFAULT_POLL_MS,
        // A send through any node publishes on the topic's subject: hearing it wakes the poll.
        listen: () => {
          const heard = nc.subscribe(this.names.messageSubject(input.tenant, input.topic), {
            callback: () => this.waiters.wake(key),
          });
          return () => heard.unsubscribe();
        },
      }),
    );
  }

  ack(lease: LeaseRef): Promise<void> {
    return this.settle(lease, "ack", 0);
  }

  nack(lease: LeaseRef, delayMs: number, error?: string): Promise<void> {
    return this.settle(lease, "nack", delayMs, error ?? "nacked");
  }

  extend(lease: LeaseRef, visibilityMs: number): Promise<void> {
    return this.settle(lease, "extend", visibilityMs);
  }

  delete(tenant: string, msgId: string, topic?: string): Promise<boolean> {
    return this.guard(async ({ jsm, log }) => {
      const seq = seqOfMsgId(msgId);
      if (seq === undefined) return false;
      const stored = await jsm.streams.getMessage(this.names.messages, { seq });
      const where = stored && this.names.parseMessageSubject(stored.subject);
      if (!stored || !where || where.tenant !== tenant || (topic !== undefined && where.topic !== topic)) {
        return false;
      }
      if (msgIdOf(Number(stored.header.get(SENT_AT)), seq) !== msgId) return false;
      // State first: once the entry is gone no receipt of the message is live, and one never
      // delivered is marked so that no reader hands it out, whatever bytes it still sees.
      await log.apply(this.names.stateSubject(tenant, where.topic), (draft) => {
        if (seq > draft.cursor) draft.msgs[seq] = { state: "deleted", attempt: 0, delivery: 0 };
        else delete draft.msgs[seq];
      });
      this.sent.forget(seq);
      return await this.removeMessage(jsm, seq);
    });
  }

  dlqList(tenant: string, topic: string, max: number): Promise<DeadLetter[]> {
    return this.guard(async ({ jsm, log }) => {
      const state = await log.read(this.names.stateSubject(tenant, topic));
      const out: DeadLetter[] = [];
      for (const seq of sequencesIn(state, "dead").slice(0, max)) {
        const stored = await jsm.streams.getMessage(this.names.messages, { seq });
        const tracked = state.msgs[seq];
        if (!stored || !tracked) continue;
        const { sentAt, attrs, e2e } = readMeta(stored.header);
        out.push({
          msgId: msgIdOf(sentAt, seq),
          topic,
          attempts: tracked.attempt,
          sentAt,
          // No error stored: the last lease ran out (jetstream-topic-state.ts applyExpiries).
          lastError: tracked.lastError ?? LEASE_EXPIRED_ERROR,
          attrs,
          body: stored.data,
          e2e,
        });
      }
      return out;
    });
  }

  dlqRedrive(tenant: string, topic: string, max: number): Promise<number> {
    return this.guard(async ({ log }) => {
      const moved = await log.apply(this.names.stateSubject(tenant, topic), (draft) => {
        const seqs = sequencesIn(draft, "dead").slice(0, max);
        for (const seq of seqs) {
          const tracked = draft.msgs[seq];
          if (!tracked) continue;
          tracked.state = "retry";
          tracked.attempt = 0;
          tracked.lastError = undefined;
        }
        return seqs.length;
      });
      if (moved > 0) this.waiters.wake(topicKey(tenant, topic));
      return moved;
    });
  }

  dlqPurge(tenant: string, topic: string): Promise<number> {
    return this.guard(async ({ jsm, log }) => {
      const purged = await log.apply(this.names.stateSubject(tenant, topic), (draft) => {
        const seqs = sequencesIn(draft, "dead");
        for (const seq of seqs) delete draft.msgs[seq];
        return seqs;
      });
      for (const seq of purged) await this.removeMessage(jsm, seq);
      return purged.length;
    });
  }

  depth(): Promise<DepthByState> {
    return this.guard(async ({ jsm, log, removals }) => {
      const now = this.clock.now();
      const { value: stored, pending } = await removals.counting(() =>
        subjectCounts(jsm, this.names.messages, this.names.tenantMessages()),
      );
      const records = await subjectCounts(jsm, this.names.state, `${this.names.prefix}.s.>`);
      const depth = { ready: 0, inflight: 0, delayed: 0, dlq: 0 };
      let total = 0;
      for (const n of Object.values(stored)) total += n;
      for (const acked of pending.values()) total -= acked;
      for (const subject of Object.keys(records)) {
        const counts = countStates(await log.read(subject), now);
        depth.inflight += counts.inflight;
        depth.delayed += counts.delayed;
        depth.dlq += counts.dlq;
      }
      depth.ready = Math.max(0, total - depth.inflight - depth.delayed - depth.dlq);
      return depth;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.waiters.wakeAll();
    const nats = await this.nats?.catch(() => undefined);
    await nats?.removals.close();
    await nats?.nc.close();
  }

  /** The cluster connection; one that could not be made is tried again by the next operation. */
  private connection(): Promise<Nats> {
    this.nats ??= this.open().catch((err: unknown) => {
      this.nats = undefined;
      throw err;
    });
    return this.nats;
  }

  private async open(): Promise<Nats> {
    const nc = await connect({
      servers: this.options.urls,
      // Keep trying the cluster's servers for as long as the node runs.
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      // Otherwise the client builds two errors with stack traces for every request, a fifth
      // of the node's CPU under load; a failed request is reported by its operation anyway.
      noAsyncTraces: true,
      name: "omnigate-mailbox",
    });
    try {
      // Streams are made once, with the client's default patience (R3 creation takes a while).
      await ensureStreams(await jetstreamManager(nc), {
        names: this.names,
        replicas: this.options.replicas,
        dedupeWindowMs: this.options.dedupeWindowMs,
      });
      // A request to a server that died gets no answer: it fails after REQUEST_TIMEOUT_MS, not
      // the client's 5 s, so the SDK retries it (on a new stream leader) that much sooner.
      const jsm = await jetstreamManager(nc, { timeout: REQUEST_TIMEOUT_MS });
      const js = jetstream(nc, { timeout: REQUEST_TIMEOUT_MS });
      const removals = new AckedRemovals(
        {
          purgeBelow: async (subject, floor) => {
            // Nothing lies below sequence 1, and nats-server takes a purge "below 1" (or 0) as
            // a purge of the whole subject.
            if (floor <= 1) return;
            await jsm.streams.purge(this.names.messages, { filter: subject, seq: floor });
          },
          removeOne: async (seq) => {
            await this.removeMessage(jsm, seq);
          },
        },
        this.clock,
        HOLE_HOLD_MS,
      );
      // Stream sequences are only unique for the life of a stream: when the messages stream is
      // made anew (another node found it deleted) or this connection was lost meanwhile, the
      // copies of sent messages may name reused sequences, so they are dropped.
      nc.subscribe(`$JS.EVENT.ADVISORY.STREAM.CREATED.${this.names.messages}`, {
        callback: () => this.sent.clear(),
      });
      void (async () => {
        for await (const status of nc.status()) if (status.type === "reconnect") this.sent.clear();
      })();
      const log = new TopicStateLog(jsm, js, this.names.state, this.options.maxStateBytes);
      return { nc, js, jsm, log, removals };
    } catch (err) {
      await nc.close();
      throw err;
    }
  }

  /**
   * A SEND with an idempotency key: the key's record (its first message's sequence, sent_at
   * and body hash) decides duplicates on the node clock. The message is stored before the
   * record, with a Nats-Msg-Id naming the record's generation, so a sender that died between
   * the two is deduplicated by the stream when it retries and then writes the record.
   */
  private async sendOnce(input: SendInput, subject: string, meta: MsgHdrs, now: number): Promise<SendResult> {
    const { js, jsm } = await this.connection();
    const hash = createHash("sha256").update(input.body).digest("hex");
    const keyHash = createHash("sha256")
      .update(input.idemKey ?? "")
      .digest("hex");
    const recordSubject = this.names.idemSubject(input.tenant, input.topic, keyHash);
    meta.set(BODY_HASH, hash);
    for (;;) {
      const stored = await jsm.streams.getMessage(this.names.idem, { last_by_subj: recordSubject });
      const record = stored ? (stored.json() as IdemRecord) : undefined;
      if (record && now - record.sentAt < this.options.dedupeWindowMs) return answerDuplicate(record, hash);
      const generation = stored?.seq ?? 0;
      const ack = await this.storeCounted(input.tenant, () =>
        js.publish(subject, input.body, {
          headers: meta,
          msgID: `${createHash("sha256").update(recordSubject).digest("hex")}.${generation}`,
        }),
      );
      let first: IdemRecord = { seq: ack.seq, sentAt: now, hash };
      if (ack.duplicate && ack.seq === 0) {
        // The first copy is still being replicated (the leader answers sequence 0): look again.
        await new Promise((resolve) => setTimeout(resolve, 10));
        continue;
      }
      if (ack.duplicate) {
        // The first copy's sequence: its own sent_at and body hash make the answer. A copy the
        // leader has not applied yet reads as missing for a moment: a record made from this
        // SEND's clock instead would give the key a second msg_id. One that stays missing was
        // taken out of the stream since (acknowledged); then this SEND's own values stand.
        const original = await readWhenVisible(() =>
          jsm.streams.getMessage(this.names.messages, { seq: ack.seq }),
        );
        if (original) {
          first = {
            seq: ack.seq,
            sentAt: Number(original.header.get(SENT_AT)),
            hash: original.header.get(BODY_HASH),
          };
        }
      }
      if ((await casPublish(js, recordSubject, JSON.stringify(first), generation)) === undefined) {
        // Another sender recorded the key first. Its record may name this very message (it got
        // our copy back as a duplicate and recorded it before we could): that one is answered
        // and must stay. Only a message the record does not name is a duplicate to remove.
        if (!ack.duplicate) {
          // The winner's record can be accepted but not readable yet (a server that answers
          // duplicates on arrival): it may name our message, so nothing is removed unread.
          const winner = await readWhenVisible(() =>
            jsm.streams.getMessage(this.names.idem, { last_by_subj: recordSubject }),
          );
          if (!winner) {
            throw engineUnavailable("the mailbox's NATS cluster", "the key's record is not readable yet");
          }
          const recorded = winner.json() as IdemRecord;
          if (recorded.seq === ack.seq) {
            // Our message, recorded by the other sender: this SEND stored it, so it is the one
            // answered as new (the other answers it as the duplicate).
            this.stored(input, subject, meta, ack.seq);
            return { msgId: msgIdOf(recorded.sentAt, ack.seq), duplicate: false };
          }
          await this.removeMessage(jsm, ack.seq);
          this.depthOf.release(input.tenant);
        }
        continue;
      }
      if (ack.duplicate) return answerDuplicate(first, hash);
      this.stored(input, subject, meta, ack.seq);
      return { msgId: msgIdOf(now, ack.seq), duplicate: false };
    }
  }

  /** Leases what is visible now: messages visible again first (oldest first), then new ones. */
  private async leaseNow(input: RecvInput): Promise<TopicLook> {
    const { jsm, log } = await this.connection();
    const now = this.clock.now();
    const subject = this.names.messageSubject(input.tenant, input.topic);
    const stateSubject = this.names.stateSubject(input.tenant, input.topic);
    const taken = await log.apply(stateSubject, async (draft, reads) => {
      const dead = applyExpiries(draft, now, this.options.maxAttempts);
      // A record near its size limit takes only the leases that fit: redeliveries (which only
      // add a lease end to an entry) up to the hard limit, since they are how an entry leaves,
      // and new leases (a new entry each) up to the limit. The RECV gets fewer, or none.
      if (reads.tight && reads.estimatedBytes === undefined) {
        reads.estimatedBytes = encodeTopicState(draft).byteLength;
      }
      let size = reads.estimatedBytes ?? 0;
      const retryFits = reads.tight
        ? Math.max(0, Math.floor((reads.hardLimitBytes - size) / RELEASE_BYTES))
        : Number.POSITIVE_INFINITY;
      const picked: Array<{ seq: number; stored?: MessageCopy; attempt: number; delivery: number }> = [];
      const retries = sequencesIn(draft, "retry");
      for (const seq of retries.slice(0, Math.min(input.max, retryFits))) {
        picked.push({ seq, attempt: 0, delivery: 0 });
      }
      size += picked.length * RELEASE_BYTES;
      const freshFits = reads.tight
        ? Math.max(0, Math.floor((reads.maxRecordBytes - size) / LEASE_ENTRY_BYTES))
        : Number.POSITIVE_INFINITY;
      const room = Math.max(0, Math.min(input.max - picked.length, freshFits));
      // Every RECV of the batch shares one look at the topic's last message, if one needs it.
      const lastOf = () => reads.once("last", () => lastOnSubject(jsm, this.names.messages, subject));
      const fresh =
        room > 0
          ? await readAfter(jsm, this.names.messages, subject, draft.cursor, room, lastOf, (seq) =>
              this.sent.get(seq),
            )
          : [];
      for (const stored of fresh) {
        draft.cursor = stored.seq;
        if (draft.msgs[stored.seq]?.state === "deleted") continue;
        picked.push({ seq: stored.seq, stored, attempt: 0, delivery: 0 });
      }
      dropPassedDeletions(draft);
      if (reads.tight) reads.estimatedBytes = size + fresh.length * LEASE_ENTRY_BYTES;
      for (const pick of picked) {
        const tracked = draft.msgs[pick.seq] ?? { state: "lease", attempt: 0, delivery: 0 };
        tracked.state = "lease";
        tracked.attempt += 1;
        tracked.delivery += 1;
        tracked.until = now + input.visibilityMs;
        draft.msgs[pick.seq] = tracked;
        pick.attempt = tracked.attempt;
        pick.delivery = tracked.delivery;
      }
      // Messages wait that the record has no room to lease: say so rather than wait in silence.
      const full =
        reads.tight &&
        picked.length === 0 &&
        (retries.length > 0 || ((await lastOf())?.seq ?? 0) > draft.cursor);
      return { dead, picked, nextVisibleAt: nextVisibleAt(draft), full };
    });
    if (taken.dead > 0) this.count("dlq", taken.dead);
    if (taken.full) throw stateFull(this.options.maxStateBytes ?? DEFAULT_MAX_RECORD_BYTES);
    // Handed out: the cursor is past them, and a redelivery reads the stream.
    for (const pick of taken.picked) if (pick.stored) this.sent.forget(pick.seq);
    const deliveries: Delivery[] = [];
    const vanished: number[] = [];
    const bodies = await Promise.all(
      taken.picked.map((p) => p.stored ?? jsm.streams.getMessage(this.names.messages, { seq: p.seq })),
    );
    taken.picked.forEach((pick, i) => {
      const stored = bodies[i];
      if (!stored) {
        vanished.push(pick.seq); // deleted while this lease was being taken
        return;
      }
      const { sentAt, attrs, e2e } = readMeta(stored.header);
      this.count(pick.attempt > 1 ? "redelivered" : "delivered", 1);
      deliveries.push({
        msgId: msgIdOf(sentAt, pick.seq),
        receipt: makeJetStreamReceipt(pick.seq, pick.delivery, input.topic),
        attempt: pick.attempt,
        sentAt,
        topic: input.topic,
        attrs,
        body: stored.data,
        e2e,
      });
    });
    if (vanished.length > 0) {
      await log.apply(stateSubject, (draft) => {
        for (const seq of vanished) delete draft.msgs[seq];
      });
    }
    return { deliveries, nextVisibleAt: taken.nextVisibleAt };
  }

  private settle(lease: LeaseRef, op: "ack" | "nack" | "extend", ms: number, error = ""): Promise<void> {
    return this.guard(async ({ log, removals }) => {
      const { seq, delivery, topic } = parseJetStreamReceipt(lease.receipt);
      if (lease.topic !== undefined && lease.topic !== topic) throw staleReceipt();
      const now = this.clock.now();
      let settled: TopicState | undefined;
      const outcome = await log.apply(
        this.names.stateSubject(lease.tenant, topic),
        (draft: TopicState, reads) => {
          settled = draft;
          const tracked = draft.msgs[seq];
          const live =
            tracked?.state === "lease" && tracked.delivery === delivery && (tracked.until ?? 0) > now;
          if (!tracked || !live) throw staleReceipt();
          if (op === "ack") {
            delete draft.msgs[seq];
            return "acked";
          }
          if (op === "extend") {
            tracked.until = now + ms;
            return "extended";
          }
          // Past the record's limit a NACK keeps no error text, so it cannot grow its entry.
          tracked.lastError = reads.tight ? "" : error;
          if (tracked.attempt >= this.options.maxAttempts) {
            tracked.state = "dead";
            tracked.until = undefined;
            return "dead";
          }
          tracked.state = ms > 0 ? "delay" : "retry";
          tracked.until = ms > 0 ? now + ms : undefined;
          return "nacked";
        },
      );
      if (outcome === "acked") {
        // The state no longer names it, so nothing delivers it again: the bytes go in a batch.
        const floor = settled ? floorOfCommitted(settled) : 0;
        await removals.acked(this.names.messageSubject(lease.tenant, topic), seq, floor);
        this.count("acked", 1);
      } else if (outcome === "dead") {
        this.count("dlq", 1);
      } else if (outcome === "nacked") {
        this.waiters.wake(topicKey(lease.tenant, topic));
      }
    });
  }

  /** Publishes a message within the tenant's depth limit (429 quota over it). */
  private async storeCounted(tenant: string, publish: () => Promise<PubAck>): Promise<PubAck> {
    if (!(await this.depthOf.admit(tenant, this.options.maxDepthPerTenant))) {
      throw new OapError("quota", "the tenant's mailbox is full; consume or purge messages, then retry", {
        retryAfterMs: 1000,
      });
    }
    let ack: PubAck | undefined;
    try {
      ack = await publish();
      return ack;
    } finally {
      // Counted only when stored anew: a failed publish or a duplicate added nothing.
      if (!ack || ack.duplicate) this.depthOf.release(tenant);
    }
  }

  /**
   * The tenant's messages, every state and every node, from the stream's subject counts, less
   * the acked ones this node is still removing (another node's show for up to a hold).
   */
  private async storedOf(tenant: string): Promise<number> {
    const { jsm, removals } = await this.connection();
    const { value: counts, pending } = await removals.counting(() =>
      subjectCounts(jsm, this.names.messages, this.names.tenantMessages(tenant)),
    );
    let stored = 0;
    for (const n of Object.values(counts)) stored += n;
    // Acked messages this node still has to remove are gone for the limit.
    for (const [subject, acked] of pending) {
      if (this.names.parseMessageSubject(subject)?.tenant === tenant) stored -= acked;
    }
    return Math.max(0, stored);
  }

  private async removeMessage(jsm: JetStreamManager, seq: number): Promise<boolean> {
    try {
      return await jsm.streams.deleteMessage(this.names.messages, seq, false);
    } catch (err) {
      if (err instanceof JetStreamApiError) return false; // already gone
      throw err;
    }
  }

  /** A new message is in the stream: kept for RECVs here, counted, and waiting polls woken. */
  private stored(input: SendInput, subject: string, meta: MsgHdrs, seq: number): void {
    // A copy of the body: the request's buffer is not ours to keep.
    this.sent.remember({ seq, subject, header: meta, data: Uint8Array.prototype.slice.call(input.body) });
    this.count("enqueued", 1);
    this.waiters.wake(topicKey(input.tenant, input.topic));
  }

  /** Runs an operation once connected; a cluster that cannot answer is 503 for the request. */
  private async guard<T>(work: (nats: Nats) => Promise<T>): Promise<T> {
    if (this.closed) throw new OapError("shutting_down", "the mailbox engine is closed");
    try {
      return await work(await this.connection());
    } catch (err) {
      if (err instanceof OapError) throw err;
      throw engineUnavailable("the mailbox's NATS cluster", err);
    }
  }
}

/**
 * The floor of a state as written. Every ack of one group commit shares the written draft, so
 * it is worked out once per write, not once per ack (a scan of every tracked message).
 */
const committedFloors = new WeakMap<TopicState, number>();
function floorOfCommitted(state: TopicState): number {
  let floor = committedFloors.get(state);
  if (floor === undefined) {
    floor = floorOf(state);
    committedFloors.set(state, floor);
  }
  return floor;
}

function answerDuplicate(record: IdemRecord, hash: string): SendResult {
  if (record.hash !== hash) {
    throw new OapError("conflict", "this idempotency key was used with a different body; use a new key");
  }
  return { msgId: msgIdOf(record.sentAt, record.seq), duplicate: true };
}

function readMeta(meta: MsgHdrs): { sentAt: number; attrs: Attrs; e2e: boolean } {
  const attrs = meta.get(ATTRS);
  return {
    sentAt: Number(meta.get(SENT_AT)),
    attrs: attrs ? (JSON.parse(Buffer.from(attrs, "base64url").toString()) as Attrs) : {},
    e2e: meta.get(E2E) === "1",
  };
}

/** Reads until the message is there, for up to VISIBLE_WAIT_MS; undefined if it never shows. */
async function readWhenVisible<T>(read: () => Promise<T | null>): Promise<T | undefined> {
  for (let waited = 0; ; waited += VISIBLE_POLL_MS) {
    const found = await read();
    if (found) return found;
    if (waited >= VISIBLE_WAIT_MS) return undefined;
    await new Promise((resolve) => setTimeout(resolve, VISIBLE_POLL_MS));
  }
}
