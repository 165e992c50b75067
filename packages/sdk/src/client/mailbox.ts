import { AppProtoId, asBuffer, copyBytes, type Meta } from "@omnigate/oap/internal";
import { decodeRecords, encodeRecords, type MailboxRecord } from "../mailbox/records.js";
import type { OapCaller } from "./call-options.js";
import { OapClientError, OapConnectionError, OapTimeoutError } from "./errors.js";
import type { OapEvent } from "./events.js";
import { ackOutcomes, type SendResult, sendOutcomes } from "./mailbox-batch-replies.js";
import { PushQueue } from "./push-queue.js";
import { type OapStream, toBytes } from "./stream.js";
import { type ItemOutcome, TurnBatcher } from "./turn-batcher.js";

/** Largest record the client accepts from the node: a message body plus its delivery meta. */
const MAX_RECORD_BYTES = 2 * 1024 * 1024;
/** Time a RECV's deadline allows beyond its long poll. */
const RECV_DEADLINE_SLACK_MS = 10_000;
const DEFAULT_SUBSCRIBE_CREDIT = 16;
/**
 * Items per batched request (the node takes up to 500). Many concurrent callers make several
 * requests per turn, so the node commits one while the disk flushes another.
 */
const MAX_BATCH_ITEMS = 64;
const MAX_SEND_BATCH_BYTES = 512 * 1024;

interface AckKey {
  tenant: bigint | undefined;
  topic: string | undefined;
}

interface SendKey {
  tenant: bigint | undefined;
  topic: string;
  e2e: boolean;
}

interface QueuedSend {
  body: Uint8Array;
  attrs: Record<string, string> | undefined;
}

/** Options every mailbox call takes. */
export interface MailboxCallOptions {
  /** Tenant the call acts for (default: the client's). */
  tenant?: bigint;
  /** Budget of the call in ms (default: the client's defaultDeadlineMs; RECV adds its waitMs). */
  deadlineMs?: number;
  /** Aborts the call (OapAbortError). */
  signal?: AbortSignal;
}

/**
 * Options of ACK, NACK and EXTEND. `topic` names the delivery's topic: the node then checks it
 * against the token's topics and refuses a receipt of another topic. A token limited to some
 * topics needs it; `msg.ack()` always sends it.
 */
export interface LeaseCallOptions extends MailboxCallOptions {
  /** The topic the delivery came from. */
  topic?: string;
}

/** Options of `mailbox.send()`. */
export interface SendOptions extends MailboxCallOptions {
  /** Idempotency key: the same key and body within the node's dedupe window returns the first msg_id. Also makes the SDK retry the send. */
  idemKey?: string;
  /** String attributes delivered with the message (headers the consumer reads unparsed). */
  attrs?: Record<string, string>;
  /** The body is end-to-end encrypted by the app (APP_E2E). */
  e2e?: boolean;
}

/** Options of `mailbox.recv()`: how many messages, for how long they are leased, how long to wait. */
export interface RecvOptions extends MailboxCallOptions {
  /** Most messages to take (default 1). */
  max?: number;
  /** How long the messages stay invisible to others (default: the node's). */
  visibilityMs?: number;
  /** Long poll: how long to wait for a message when there is none (default 0). */
  waitMs?: number;
}

/** Options of `mailbox.subscribe()`: ack mode, credit, and each lease's visibility. */
export interface SubscribeOptions extends MailboxCallOptions {
  /** "explicit" (default): call msg.ack(); "auto": the node acks as it pushes (at-most-once). */
  ack?: "auto" | "explicit";
  /** Messages pushed ahead of the consumer (default 16). */
  credit?: number;
  /** How long each pushed message stays invisible to others (default: the node's). */
  visibilityMs?: number;
}

/** A message in a topic's dead-letter queue, as `mailbox.dlqList()` lists it. */
export interface DeadLetterMessage {
  /** The id SEND returned. */
  msgId: string;
  /** The topic it was sent to. */
  topic: string;
  /** How many deliveries it had before it was dead-lettered. */
  attempts: number;
  /** When the node accepted it, in Unix milliseconds. */
  sentAt: number;
  /** Why it was dead-lettered: its last NACK's `error` ("nacked" if none), or "visibility timeout expired". */
  lastError: string;
  /** The attributes it was sent with. */
  attrs: Record<string, string>;
  /** Its body, byte-exact. */
  body: Buffer;
  /** The sender flagged the body APP_E2E (encrypted by the app end to end). */
  e2e: boolean;
}

/** What a delivered message carries, as a RECV reply or a pushed EVENT gives it. */
export interface MailboxMessageFields {
  msgId: string;
  /** The lease's receipt: what ack, nack and extend name. */
  receipt: string;
  attempt: number;
  sentAt: number;
  topic: string;
  attrs: Record<string, string>;
  body: Buffer;
  /** The sender flagged the body APP_E2E (encrypted by the app end to end). */
  e2e: boolean;
}

/** A delivered message. `ack()` removes it; `nack()` hands it back; `extend()` keeps it longer. */
export class MailboxMessage {
  /** The id SEND returned: the same on every delivery of this message. */
  readonly msgId: string;
  /** Names this delivery's lease: what ack, nack and extend take. Stale once the lease ends. */
  readonly receipt: string;
  /** 1 on the first delivery, +1 on each redelivery. */
  readonly attempt: number;
  /** When the node accepted the message, in Unix milliseconds. */
  readonly sentAt: number;
  /** The topic it was sent to. */
  readonly topic: string;
  /** The attributes it was sent with. */
  readonly attrs: Record<string, string>;
  /** The message body, byte-exact. */
  readonly body: Buffer;
  /** The sender flagged the body APP_E2E (encrypted by the app end to end). */
  readonly e2e: boolean;

  /** @internal Messages come from `recv()` and `subscribe()`. */
  constructor(
    private readonly mailbox: MailboxClient,
    fields: MailboxMessageFields,
    private readonly options: MailboxCallOptions,
  ) {
    this.msgId = fields.msgId;
    this.receipt = fields.receipt;
    this.attempt = fields.attempt;
    this.sentAt = fields.sentAt;
    this.topic = fields.topic;
    this.attrs = fields.attrs;
    this.body = fields.body;
    this.e2e = fields.e2e;
  }

  /** Removes the message: it was handled. */
  ack(): Promise<void> {
    return this.mailbox.ack(this.receipt, { ...this.options, topic: this.topic });
  }

  /**
   * Hands the message back now: it is delivered again after `delayMs` (default 0), or
   * dead-lettered once out of attempts; `error` is kept as the dead letter's `lastError`.
   */
  nack(delayMs?: number, error?: string): Promise<void> {
    return this.mailbox.nack(this.receipt, { ...this.options, topic: this.topic, delayMs, error });
  }

  /** Keeps the lease `visibilityMs` longer from now, for a handler that needs more time. */
  extend(visibilityMs: number): Promise<void> {
    return this.mailbox.extend(this.receipt, visibilityMs, { ...this.options, topic: this.topic });
  }
}

/** The mailbox (app id 0x0201) through one client: `client.mailbox`. */
export class MailboxClient {
  private readonly acks = new TurnBatcher<AckKey, string, void>(
    (key, receipts) => this.ackBatch(key, receipts),
    {
      maxItems: MAX_BATCH_ITEMS,
      maxBytes: Number.POSITIVE_INFINITY,
      sizeOf: () => 0,
    },
  );
  private readonly sends = new TurnBatcher<SendKey, QueuedSend, SendResult>(
    (key, items) => this.sendBatch(key, items),
    { maxItems: MAX_BATCH_ITEMS, maxBytes: MAX_SEND_BATCH_BYTES, sizeOf: (item) => item.body.length },
  );

  /** @internal Use `client.mailbox`. */
  constructor(private readonly client: OapCaller) {}

  /**
   * Sends issued in the same turn of the event loop to the same topic travel as one request
   * (`batch`), each still settling on its own once stored. A send with an idempotency key,
   * its own deadline or a signal is sent alone (and an idempotent one is retried by the SDK).
   */
  async send(topic: string, body: Uint8Array | string, options: SendOptions = {}): Promise<SendResult> {
    if (options.idemKey === undefined && options.deadlineMs === undefined && options.signal === undefined) {
      const key: SendKey = { tenant: options.tenant, topic, e2e: options.e2e === true };
      const id = `${options.tenant ?? ""}\u0000${topic}\u0000${key.e2e ? 1 : 0}`;
      return this.sends.add(id, key, { body: toBytes(body), attrs: options.attrs });
    }
    return this.sendOne(topic, toBytes(body), options);
  }

  private async sendOne(topic: string, body: Uint8Array, options: SendOptions): Promise<SendResult> {
    const meta: Meta = { op: "send", topic };
    if (options.idemKey !== undefined) meta.idem_key = options.idemKey;
    if (options.attrs !== undefined) meta.attrs = options.attrs;
    const reply = await this.call(meta, options, {
      body,
      idempotencyKey: options.idemKey,
      e2e: options.e2e,
    });
    return { msgId: String(reply.meta.msg_id), duplicate: reply.meta.duplicate === true };
  }

  private async sendBatch(key: SendKey, items: QueuedSend[]): Promise<ItemOutcome<SendResult>[]> {
    const options = { tenant: key.tenant, e2e: key.e2e };
    if (items.length === 1) {
      const only = items[0] as QueuedSend;
      return [
        { ok: true, value: await this.sendOne(key.topic, only.body, { ...options, attrs: only.attrs }) },
      ];
    }
    const records = items.map((item) => ({ meta: item.attrs ? { attrs: item.attrs } : {}, body: item.body }));
    const reply = await this.call({ op: "send", topic: key.topic, batch: items.length }, options, {
      body: encodeRecords(records),
      e2e: key.e2e,
    });
    return sendOutcomes(reply.meta, items.length);
  }

  private async ackBatch(key: AckKey, receipts: string[]): Promise<ItemOutcome<void>[]> {
    if (receipts.length === 1) {
      await this.call(withTopic({ op: "ack", receipt: receipts[0] as string }, key), key);
      return [{ ok: true, value: undefined }];
    }
    const reply = await this.call(withTopic({ op: "ack", receipts }, key), key);
    return ackOutcomes(reply.meta, receipts.length);
  }

  /**
   * Leases up to `max` messages of a topic (long-polling up to `waitMs` when there are none);
   * each must be acked, nacked or left to expire. An empty array means none arrived in time.
   */
  async recv(topic: string, options: RecvOptions = {}): Promise<MailboxMessage[]> {
    const meta: Meta = { op: "recv", topic, max: options.max ?? 1, wait_ms: options.waitMs ?? 0 };
    if (options.visibilityMs !== undefined) meta.visibility_ms = options.visibilityMs;
    const reply = await this.call(meta, {
      ...options,
      deadlineMs: options.deadlineMs ?? (options.waitMs ?? 0) + RECV_DEADLINE_SLACK_MS,
    });
    return decodeRecords(reply.body, MAX_RECORD_BYTES).map((r) => this.message(r, options));
  }

  /**
   * ACKs issued in the same turn of the event loop (e.g. one per message of a RECV) travel
   * as one request; each call still settles on its own. A call with its own deadline or
   * signal is sent alone.
   */
  async ack(receipt: string, options: LeaseCallOptions = {}): Promise<void> {
    if (options.deadlineMs !== undefined || options.signal !== undefined) {
      await this.call(withTopic({ op: "ack", receipt }, options), options);
      return;
    }
    const key: AckKey = { tenant: options.tenant, topic: options.topic };
    await this.acks.add(`${options.tenant ?? ""}\u0000${options.topic ?? ""}`, key, receipt);
  }

  /** Ends a lease now: the message is visible again after `delayMs` (default 0). See MailboxMessage.nack(). */
  async nack(
    receipt: string,
    options: LeaseCallOptions & { delayMs?: number; error?: string } = {},
  ): Promise<void> {
    const meta: Meta = withTopic({ op: "nack", receipt }, options);
    if (options.delayMs !== undefined) meta.delay_ms = options.delayMs;
    if (options.error !== undefined) meta.error = options.error;
    await this.call(meta, options);
  }

  /** Keeps a lease `visibilityMs` longer from now. */
  async extend(receipt: string, visibilityMs: number, options: LeaseCallOptions = {}): Promise<void> {
    await this.call(withTopic({ op: "extend", receipt, visibility_ms: visibilityMs }, options), options);
  }

  /** Removes a message wherever it is; false when there was none (or, with `topic`, it is on another topic). */
  async delete(msgId: string, options: LeaseCallOptions = {}): Promise<boolean> {
    return (
      (await this.call(withTopic({ op: "delete", msg_id: msgId }, options), options)).meta.deleted === true
    );
  }

  /** Lists up to `max` (default 10) dead letters of a topic, without removing them. */
  async dlqList(
    topic: string,
    options: MailboxCallOptions & { max?: number } = {},
  ): Promise<DeadLetterMessage[]> {
    const reply = await this.call({ op: "dlq.list", topic, max: options.max ?? 10 }, options);
    return decodeRecords(reply.body, MAX_RECORD_BYTES).map(({ meta, body }) => ({
      msgId: String(meta.msg_id),
      topic: String(meta.topic),
      attempts: Number(meta.attempts),
      sentAt: Number(meta.sent_at),
      lastError: String(meta.last_error ?? ""),
      attrs: (meta.attrs ?? {}) as Record<string, string>,
      body: copyBytes(body),
      e2e: meta.e2e === true,
    }));
  }

  /** Moves up to `max` dead letters back onto their topic, attempts reset; returns how many moved. */
  async dlqRedrive(topic: string, options: MailboxCallOptions & { max?: number } = {}): Promise<number> {
    const meta: Meta = { op: "dlq.redrive", topic };
    if (options.max !== undefined) meta.max = options.max;
    return Number((await this.call(meta, options)).meta.redriven);
  }

  /** Removes every dead letter of a topic; returns how many. */
  async dlqPurge(topic: string, options: MailboxCallOptions = {}): Promise<number> {
    return Number((await this.call({ op: "dlq.purge", topic }, options)).meta.purged);
  }

  /**
   * Messages pushed as they arrive: `for await (const msg of client.mailbox.subscribe(topic))`.
   * The node pushes each message as an EVENT frame under the subscription's corr_id, never
   * more than the credit; credit goes back to the node (an EVENT|ACK_REQ grant) half a window
   * at a time as the loop takes messages. The node ends a subscription stream at its deadline;
   * the iterator then subscribes again, so the loop runs until it breaks, the signal aborts or
   * the node refuses the subscription. With `ack: "explicit"`, messages pushed but not yet
   * taken by the loop when it leaves are handed back (NACK) at once.
   */
  async *subscribe(
    topic: string,
    options: SubscribeOptions = {},
  ): AsyncGenerator<MailboxMessage, void, undefined> {
    const credit = Math.max(1, options.credit ?? DEFAULT_SUBSCRIBE_CREDIT);
    const grantEvery = Math.ceil(credit / 2);
    const ack = options.ack ?? "explicit";
    const meta: Meta = { op: "subscribe", topic, ack, credit };
    if (options.visibilityMs !== undefined) meta.visibility_ms = options.visibilityMs;
    while (!options.signal?.aborted && !this.client.closed) {
      const pushed = new PushQueue<MailboxMessage>();
      let left = false;
      const stream = this.client.stream(AppProtoId.MAILBOX, {
        meta,
        tenant: options.tenant,
        deadlineMs: options.deadlineMs ?? Number.POSITIVE_INFINITY,
        signal: options.signal,
        onEvent: (event) => {
          const msg = this.pushedMessage(event, options);
          if (!left) pushed.push(msg);
          else if (ack === "explicit") handBack(msg);
        },
      });
      // The response has no body: reading it to its end tells how the subscription ended.
      readToEnd(stream).then(
        () => pushed.close(),
        (err: unknown) => pushed.close(err),
      );
      let taken = 0;
      try {
        await stream.response;
        for (let msg = await pushed.next(); msg; msg = await pushed.next()) {
          yield msg;
          if (++taken >= grantEvery) {
            // A stream that failed meanwhile says so through the queue, after what it holds.
            await stream.sendEvent({ credit: taken }, { ackRequest: true }).catch(() => {});
            taken = 0;
          }
        }
      } catch (err) {
        if (!resubscribable(err) || options.signal?.aborted) throw err;
      } finally {
        left = true;
        stream.end().catch(() => {});
        stream.discard();
        const untaken = pushed.takeAll();
        pushed.close();
        if (ack === "explicit") for (const msg of untaken) handBack(msg);
      }
    }
  }

  private async call(
    meta: Meta,
    options: MailboxCallOptions,
    extra: { body?: Uint8Array; idempotencyKey?: string; e2e?: boolean } = {},
  ) {
    return this.client.request(AppProtoId.MAILBOX, {
      meta,
      tenant: options.tenant,
      deadlineMs: options.deadlineMs,
      signal: options.signal,
      ...extra,
    });
  }

  /** A message pushed as an EVENT frame: its delivery meta, its body, APP_E2E from the frame. */
  private pushedMessage(event: OapEvent, options: MailboxCallOptions): MailboxMessage {
    return this.message({ meta: event.meta, body: event.body }, options, event.e2e);
  }

  private message(
    { meta, body }: MailboxRecord,
    options: MailboxCallOptions,
    e2eFlag = false,
  ): MailboxMessage {
    const fields: MailboxMessageFields = {
      msgId: String(meta.msg_id),
      receipt: String(meta.receipt),
      attempt: Number(meta.attempt),
      sentAt: Number(meta.sent_at),
      topic: String(meta.topic),
      attrs: (meta.attrs ?? {}) as Record<string, string>,
      body: asBuffer(body),
      e2e: e2eFlag || meta.e2e === true,
    };
    return new MailboxMessage(this, fields, { tenant: options.tenant });
  }
}

function withTopic(meta: Meta, options: { topic?: string | undefined }): Meta {
  if (options.topic !== undefined) meta.topic = options.topic;
  return meta;
}

/** A pushed message the loop will never take: its lease ends now, so it is delivered again soon. */
function handBack(msg: MailboxMessage): void {
  if (!msg.receipt) return;
  msg.nack().catch(() => {});
}

async function readToEnd(stream: OapStream): Promise<void> {
  for await (const _ of stream) {
    // A subscription's response carries no body.
  }
}

/** A subscription stream that ended by time or a lost connection is opened again. */
function resubscribable(err: unknown): boolean {
  if (err instanceof OapTimeoutError || err instanceof OapConnectionError) return true;
  return (
    err instanceof OapClientError &&
    (err.reason === "timeout" || err.reason === "request_timeout" || err.code === 503)
  );
}
