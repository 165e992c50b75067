import { AppProtoId, type Meta, OapError } from "@omnigate/oap";
import {
  decodeRecords,
  encodeRecords,
  type IncomingEvent,
  type IncomingRequest,
  type MailboxRecord,
  type ResponseWriter,
} from "@omnigate/sdk/internal";
import type { NodeConfig } from "../config/index.js";
import type { ManagedService } from "../kernel/lifecycle.js";
import { beforeDeadline, longPollBudgetMs } from "../util/before-deadline.js";
import { readCapped } from "../util/capped-body.js";
import { creditGranted } from "./credit-grant.js";
import { deliveryRecord } from "./delivery-record.js";
import type { LeaseRef, MailboxEngine, SendInput } from "./engine.js";
import { MetaFields } from "./meta-fields.js";
import type { MailboxMetrics } from "./metrics.js";
import { openEngine } from "./open-engine.js";
import { Subscription } from "./subscription.js";

/** Bytes of attrs JSON a message may carry. */
const MAX_ATTRS_BYTES = 4096;
const MAX_ERROR_LENGTH = 1024;
const MAX_IDEM_KEY_LENGTH = 256;
/** Receipts one ACK may carry (`receipts`), and messages one SEND may carry (`batch`): their results fit in a reply's meta. */
const MAX_ACK_BATCH = 500;
const MAX_SEND_BATCH = 500;
const OPS = [
  "send",
  "recv",
  "ack",
  "nack",
  "extend",
  "delete",
  "subscribe",
  "dlq.list",
  "dlq.redrive",
  "dlq.purge",
] as const;
type Op = (typeof OPS)[number];

/**
 * The mailbox on app id 0x0201: meta `op` names the operation, meta `topic` the topic, the
 * header's tenant_id the tenant. Message bodies are opaque bytes (APP_E2E or not): stored
 * and delivered byte-exact, never parsed or logged.
 */
export class MailboxService implements ManagedService {
  readonly appProtoId = AppProtoId.MAILBOX;
  readonly name = "mailbox";
  private engine: MailboxEngine | undefined;
  private readonly topicPattern: RegExp;
  /** Aborted when the node starts draining: long polls answer what they have, subscriptions end. */
  private readonly draining = new AbortController();

  constructor(
    private readonly config: NodeConfig,
    private readonly metrics: MailboxMetrics,
    /** Opens the engine; tests and the bench may pass their own. */
    private readonly open: () => Promise<MailboxEngine> = () => openEngine(config, metrics.count),
  ) {
    this.topicPattern = new RegExp(config.mailboxTopicPattern, "u");
  }

  async start(): Promise<void> {
    const engine = await this.open();
    this.engine = engine;
    this.metrics.setDepthSource(() => engine.depth());
  }

  /** The node is draining: end long polls and subscriptions now rather than at the drain timeout. */
  drain(): void {
    this.draining.abort();
  }

  async stop(): Promise<void> {
    this.metrics.setDepthSource(undefined);
    await this.engine?.close();
    this.engine = undefined;
  }

  async handle(req: IncomingRequest, res: ResponseWriter): Promise<void> {
    const engine = this.engine;
    if (!engine) throw new OapError("service_crashed", "the mailbox is not running; retry shortly");
    const fields = new MetaFields(req.meta);
    const op = fields.choice<Op | "">("op", OPS, "");
    if (op === "") throw new OapError("bad_meta", `meta op is required: one of ${OPS.join(", ")}`);
    const tenant = req.tenantId.toString(16).padStart(32, "0");
    const c = this.config;
    // The engine may stall (a cluster electing a leader): the client hears 503 before its deadline.
    const answer = <T>(work: Promise<T>): Promise<T> =>
      beforeDeadline(req.deadline, `the mailbox's ${engine.kind} engine`, work);
    switch (op) {
      case "send": {
        const topic = this.topic(fields);
        const batch = fields.int("batch", 0, 1, MAX_SEND_BATCH);
        if (batch > 0)
          return res.reply(200, await this.sendMany(engine, { tenant, topic, count: batch }, req, answer));
        const idemKey =
          fields.optionalString("idem_key", MAX_IDEM_KEY_LENGTH) ??
          fields.optionalString("idempotency_key", MAX_IDEM_KEY_LENGTH);
        const attrs = fields.attrs("attrs", MAX_ATTRS_BYTES);
        const body = await readBody(req, c.mailboxMaxBodyBytes);
        const sent = await answer(engine.send({ tenant, topic, body, idemKey, attrs, e2e: req.e2e }));
        return res.reply(200, { msg_id: sent.msgId, duplicate: sent.duplicate });
      }
      case "recv": {
        const topic = this.topic(fields);
        const max = fields.int("max", 1, 1, c.mailboxMaxRecv);
        const visibilityMs = this.visibility(fields);
        // A wait longer than the request's deadline allows ends early, with nothing.
        const waitMs = Math.min(
          fields.int("wait_ms", 0, 0, c.mailboxMaxWaitMs),
          longPollBudgetMs(req.deadline),
        );
        const signal = AbortSignal.any([req.signal, this.draining.signal]);
        const got = await answer(engine.recv({ tenant, topic, max, visibilityMs, waitMs, signal }));
        return res.reply(200, { count: got.length }, encodeRecords(got.map(deliveryRecord)));
      }
      case "ack": {
        const receipts = fields.optionalStringList("receipts", MAX_ACK_BATCH);
        if (receipts)
          return res.reply(200, await answer(ackMany(engine, tenant, receipts, this.optionalTopic(fields))));
        await answer(engine.ack(this.lease(tenant, fields)));
        return res.reply(200, {});
      }
      case "nack": {
        const lease = this.lease(tenant, fields);
        const delayMs = fields.int("delay_ms", 0, 0, c.mailboxMaxVisibilityMs);
        await answer(engine.nack(lease, delayMs, fields.optionalString("error", MAX_ERROR_LENGTH)));
        return res.reply(200, {});
      }
      case "extend":
        await answer(engine.extend(this.lease(tenant, fields), this.visibility(fields, true)));
        return res.reply(200, {});
      case "delete": {
        const msgId = fields.string("msg_id");
        const deleted = await answer(engine.delete(tenant, msgId, this.optionalTopic(fields)));
        return res.reply(200, { deleted });
      }
      case "subscribe": {
        const subscription = new Subscription(engine, req, res, {
          tenant,
          topic: this.topic(fields),
          ack: fields.choice("ack", ["auto", "explicit"] as const, "explicit"),
          credit: fields.int("credit", 1, 0, c.mailboxMaxRecv),
          maxCredit: c.mailboxMaxRecv,
          visibilityMs: this.visibility(fields),
          maxBatch: c.mailboxMaxRecv,
          maxWaitMs: Math.max(1000, c.mailboxMaxWaitMs),
        });
        return subscription.run(this.draining.signal);
      }
      case "dlq.list": {
        const dead = await answer(
          engine.dlqList(tenant, this.topic(fields), fields.int("max", 10, 1, c.mailboxMaxRecv)),
        );
        const records = dead.map((d) => ({
          meta: {
            msg_id: d.msgId,
            topic: d.topic,
            attempts: d.attempts,
            sent_at: d.sentAt,
            last_error: d.lastError,
            attrs: d.attrs,
            ...(d.e2e ? { e2e: true } : {}),
          },
          body: d.body,
        }));
        return res.reply(200, { count: dead.length }, encodeRecords(records));
      }
      case "dlq.redrive": {
        const redriven = await answer(
          engine.dlqRedrive(tenant, this.topic(fields), fields.int("max", 100, 1, 1_000_000)),
        );
        return res.reply(200, { redriven });
      }
      case "dlq.purge":
        return res.reply(200, { purged: await answer(engine.dlqPurge(tenant, this.topic(fields))) });
    }
  }

  /**
   * A credit grant for one of the connection's subscriptions (EVENT|ACK_REQ under its
   * corr_id). A malformed grant is refused (thrown: the session fails the subscription it
   * names); a grant for no live subscription is ignored, as it may cross the subscription's end.
   */
  event(event: IncomingEvent): void {
    const credit = creditGranted(event, this.config.mailboxMaxRecv);
    Subscription.find(event.connection, event.corrId, event.tenantId)?.grant(credit);
  }

  /**
   * SEND of `batch` messages: the body is that many records (`{attrs?, idem_key?}` meta, the
   * message as body), all stored in one commit. The reply's `results` has one entry per
   * message, in order: `{msg_id, duplicate}`, or `{code, reason}` for one refused on its own
   * (409 conflict, 429 quota). A malformed batch is refused whole.
   */
  private async sendMany(
    engine: MailboxEngine,
    target: { tenant: string; topic: string; count: number },
    req: IncomingRequest,
    answer: <T>(work: Promise<T>) => Promise<T>,
  ): Promise<Meta> {
    const maxBody = this.config.mailboxMaxBodyBytes;
    const maxRecord = maxBody + MAX_ATTRS_BYTES + MAX_IDEM_KEY_LENGTH + 64;
    const bytes = await readBody(req, target.count * (maxRecord + 8));
    let records: MailboxRecord[];
    try {
      records = decodeRecords(bytes, maxRecord);
    } catch (error) {
      throw new OapError("bad_meta", `a SEND batch body is mailbox records: ${(error as Error).message}`);
    }
    if (records.length !== target.count) {
      throw new OapError(
        "bad_meta",
        `meta batch says ${target.count} messages; the body holds ${records.length}`,
      );
    }
    const inputs = records.map((record): SendInput => {
      if (record.body.byteLength > maxBody) throw tooLarge(maxBody);
      const fields = new MetaFields(record.meta);
      return {
        tenant: target.tenant,
        topic: target.topic,
        body: record.body,
        idemKey: fields.optionalString("idem_key", MAX_IDEM_KEY_LENGTH),
        attrs: fields.attrs("attrs", MAX_ATTRS_BYTES),
        e2e: req.e2e,
      };
    });
    const outcomes = await answer(Promise.allSettled(inputs.map((input) => engine.send(input))));
    return {
      results: outcomes.map((outcome): Meta => {
        if (outcome.status === "fulfilled")
          return { msg_id: outcome.value.msgId, duplicate: outcome.value.duplicate };
        return refusalEntry(outcome.reason);
      }),
    };
  }

  /**
   * The delivery an ACK, NACK or EXTEND names. Meta `topic` is optional there; when present,
   * the capability stage checked it against the token's topics and the engine holds the
   * receipt to it.
   */
  private lease(tenant: string, fields: MetaFields): LeaseRef {
    const receipt = fields.string("receipt");
    const topic = this.optionalTopic(fields);
    return topic === undefined ? { tenant, receipt } : { tenant, receipt, topic };
  }

  private optionalTopic(fields: MetaFields): string | undefined {
    return fields.has("topic") ? this.topic(fields) : undefined;
  }

  private topic(fields: MetaFields): string {
    const topic = fields.string("topic");
    if (Buffer.byteLength(topic) > this.config.mailboxMaxTopicLength || !this.topicPattern.test(topic)) {
      throw new OapError(
        "bad_meta",
        `topic must match ${this.config.mailboxTopicPattern} and be at most ${this.config.mailboxMaxTopicLength} bytes`,
      );
    }
    return topic;
  }

  /** visibility_ms within the configured bounds; EXTEND must name it, RECV/SUBSCRIBE default it. */
  private visibility(fields: MetaFields, required = false): number {
    const c = this.config;
    const fallback = required ? undefined : c.mailboxVisibilityMs;
    return fields.int("visibility_ms", fallback, c.mailboxMinVisibilityMs, c.mailboxMaxVisibilityMs);
  }
}

/**
 * ACK of a list of receipts (`receipts` instead of `receipt`): all in one group commit. The
 * reply counts the acked ones and lists each refused one by its index with the code and
 * reason a single ACK would have got; other failures fail the request.
 */
async function ackMany(
  engine: MailboxEngine,
  tenant: string,
  receipts: string[],
  topic: string | undefined,
): Promise<Meta> {
  const outcomes = await Promise.allSettled(
    receipts.map((receipt) =>
      engine.ack(topic === undefined ? { tenant, receipt } : { tenant, receipt, topic }),
    ),
  );
  const failed: Meta[] = [];
  outcomes.forEach((outcome, i) => {
    if (outcome.status === "rejected") failed.push({ i, ...refusalEntry(outcome.reason) });
  });
  return failed.length === 0
    ? { acked: receipts.length }
    : { acked: receipts.length - failed.length, failed };
}

/** One refused item of a batch, by its code and reason (no message: a full batch must fit in meta). */
function refusalEntry(error: unknown): Meta {
  if (!(error instanceof OapError)) throw error;
  return error.retryAfterMs === undefined
    ? { code: error.code, reason: error.reason }
    : { code: error.code, reason: error.reason, retry_after_ms: error.retryAfterMs };
}

/** The request body, refused with 413 past `max` bytes. */
async function readBody(req: IncomingRequest, max: number): Promise<Uint8Array> {
  const whole = req.completeBody();
  if (whole) {
    if (whole.byteLength > max) throw tooLarge(max);
    return whole;
  }
  return readCapped(req.body, max, () => tooLarge(max));
}

function tooLarge(max: number): OapError {
  return new OapError("payload_too_large", `a mailbox message body is at most ${max} bytes`);
}
