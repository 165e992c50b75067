import { AppProtoId, OapError } from "@omnigate/oap";
import { encodeRecords, type IncomingEvent, type IncomingRequest, type ResponseWriter } from "@omnigate/sdk";
import type { NodeConfig } from "../config/index.js";
import type { ManagedService } from "../kernel/lifecycle.js";
import type { MailboxMetrics } from "../metrics/mailbox-metrics.js";
import { creditGranted } from "./credit-grant.js";
import { deliveryRecord } from "./delivery-record.js";
import type { LeaseRef, MailboxEngine } from "./engine.js";
import { MetaFields } from "./meta-fields.js";
import { openEngine } from "./open-engine.js";
import { Subscription } from "./subscription.js";

/** Bytes of attrs JSON a message may carry. */
const MAX_ATTRS_BYTES = 4096;
const MAX_ERROR_LENGTH = 1024;
const MAX_IDEM_KEY_LENGTH = 256;
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
    switch (op) {
      case "send": {
        const topic = this.topic(fields);
        const idemKey =
          fields.optionalString("idem_key", MAX_IDEM_KEY_LENGTH) ??
          fields.optionalString("idempotency_key", MAX_IDEM_KEY_LENGTH);
        const attrs = fields.attrs("attrs", MAX_ATTRS_BYTES);
        const body = await readBody(req, c.mailboxMaxBodyBytes);
        const sent = await engine.send({ tenant, topic, body, idemKey, attrs, e2e: req.e2e });
        return res.reply(200, { msg_id: sent.msgId, duplicate: sent.duplicate });
      }
      case "recv": {
        const topic = this.topic(fields);
        const max = fields.int("max", 1, 1, c.mailboxMaxRecv);
        const visibilityMs = this.visibility(fields);
        const waitMs = fields.int("wait_ms", 0, 0, c.mailboxMaxWaitMs);
        const signal = AbortSignal.any([req.signal, this.draining.signal]);
        const got = await engine.recv({ tenant, topic, max, visibilityMs, waitMs, signal });
        return res.reply(200, { count: got.length }, encodeRecords(got.map(deliveryRecord)));
      }
      case "ack":
        await engine.ack(this.lease(tenant, fields));
        return res.reply(200, {});
      case "nack": {
        const lease = this.lease(tenant, fields);
        const delayMs = fields.int("delay_ms", 0, 0, c.mailboxMaxVisibilityMs);
        await engine.nack(lease, delayMs, fields.optionalString("error", MAX_ERROR_LENGTH));
        return res.reply(200, {});
      }
      case "extend":
        await engine.extend(this.lease(tenant, fields), this.visibility(fields, true));
        return res.reply(200, {});
      case "delete": {
        const msgId = fields.string("msg_id");
        return res.reply(200, { deleted: await engine.delete(tenant, msgId, this.optionalTopic(fields)) });
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
        const dead = await engine.dlqList(
          tenant,
          this.topic(fields),
          fields.int("max", 10, 1, c.mailboxMaxRecv),
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
        const redriven = await engine.dlqRedrive(
          tenant,
          this.topic(fields),
          fields.int("max", 100, 1, 1_000_000),
        );
        return res.reply(200, { redriven });
      }
      case "dlq.purge":
        return res.reply(200, { purged: await engine.dlqPurge(tenant, this.topic(fields)) });
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

/** The request body, refused with 413 past `max` bytes. */
async function readBody(req: IncomingRequest, max: number): Promise<Uint8Array> {
  const whole = req.completeBody();
  if (whole) {
    if (whole.byteLength > max) throw tooLarge(max);
    return whole;
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of req.body) {
    size += chunk.byteLength;
    if (size > max) throw tooLarge(max);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function tooLarge(max: number): OapError {
  return new OapError("payload_too_large", `a mailbox message body is at most ${max} bytes`);
}
