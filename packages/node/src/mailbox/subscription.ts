import { AppProtoId, OapError } from "@omnigate/oap";
import type { ConnectionContext, IncomingRequest, ResponseWriter } from "@omnigate/sdk/internal";
import { deliveryRecord } from "./delivery-record.js";
import type { Delivery, MailboxEngine } from "./engine.js";

export interface SubscriptionOptions {
  tenant: string;
  topic: string;
  ack: "auto" | "explicit";
  /** Messages the subscriber can take before it grants more. */
  credit: number;
  /** Most credit a subscription may hold at once (what it was given, less what was pushed). */
  maxCredit: number;
  visibilityMs: number;
  maxBatch: number;
  /** Each long poll's length; the loop polls again until the subscription ends. */
  maxWaitMs: number;
}

/** Where a connection keeps its live subscriptions (ConnectionContext.locals), by corr_id. */
const LOCALS_KEY = "mailbox.subscriptions";

/**
 * SUBSCRIBE (docs/mailbox.md): the RESP stream stays open for the subscription's life and
 * each message is pushed as one EVENT|START|END frame under the subscription's corr_id, never
 * more than the credit the subscriber holds; EVENT|ACK_REQ frames under that corr_id grant
 * more. With ack "auto" a message is acked before it is pushed (at-most-once); with
 * "explicit" the subscriber settles each receipt. Ending the request side, the stream going
 * away or the node draining ends the subscription; leases not pushed by then are handed
 * back at once.
 */
export class Subscription {
  private credit: number;
  private wakeUp: (() => void) | undefined;
  private readonly stop = new AbortController();
  private readonly connection: ConnectionContext;

  constructor(
    private readonly engine: MailboxEngine,
    private readonly req: IncomingRequest,
    private readonly res: ResponseWriter,
    private readonly options: SubscriptionOptions,
  ) {
    this.credit = options.credit;
    this.connection = req.connection;
  }

  /** The live subscription of `connection` under `corrId` for `tenantId`, if there is one. */
  static find(connection: ConnectionContext, corrId: bigint, tenantId: bigint): Subscription | undefined {
    const found = subscriptionsOf(connection, false)?.get(corrId);
    return found && found.req.tenantId === tenantId ? found : undefined;
  }

  /** Adds to the credit; over `maxCredit` held at once is the subscriber's 400 `bad_meta`. */
  grant(credit: number): void {
    if (this.credit + credit > this.options.maxCredit) {
      throw new OapError(
        "bad_meta",
        `a subscription holds at most ${this.options.maxCredit} credit; it holds ${this.credit} and was granted ${credit}`,
      );
    }
    this.credit += credit;
    this.wake();
  }

  /** Runs until the subscription ends; `draining` ends it cleanly (the node is shutting down). */
  async run(draining: AbortSignal): Promise<void> {
    const { req, res, options } = this;
    const onAbort = (): void => this.end();
    req.signal.addEventListener("abort", onAbort, { once: true });
    draining.addEventListener("abort", onAbort, { once: true });
    if (draining.aborted) onAbort();
    const live = subscriptionsOf(this.connection, true);
    live.set(req.corrId, this);
    // Ends with the request side (or its abort); the subscription does not wait for it.
    void this.watchRequestSide();
    try {
      await res.start(200, {
        subscribed: true,
        ack: options.ack,
        credit: options.credit,
        visibility_ms: options.visibilityMs,
      });
      await this.pushLoop();
    } finally {
      if (live.get(req.corrId) === this) live.delete(req.corrId);
      req.signal.removeEventListener("abort", onAbort);
      draining.removeEventListener("abort", onAbort);
      this.end();
      // A clean end (request side ended, node draining) is RESP END; after a failure this is a no-op.
      res.end();
    }
  }

  private async pushLoop(): Promise<void> {
    const { engine, options, res } = this;
    const signal = this.stop.signal;
    while (!signal.aborted && !res.ended) {
      if (this.credit <= 0) {
        await new Promise<void>((resolve) => {
          this.wakeUp = resolve;
        });
        continue;
      }
      // A subscriber that does not read keeps the socket full: lease nothing more until it has room.
      await this.connection.drained();
      if (signal.aborted || res.ended) break;
      const got = await engine.recv({
        tenant: options.tenant,
        topic: options.topic,
        max: Math.min(this.credit, options.maxBatch),
        visibilityMs: options.visibilityMs,
        waitMs: options.maxWaitMs,
        signal,
      });
      if (got.length === 0) continue;
      if (signal.aborted || res.ended || this.connection.closed) {
        await this.handBack(got);
        break;
      }
      // Auto-ack: acked before the push, so a message lost on the way is not redelivered.
      if (options.ack === "auto") await Promise.all(got.map((d) => engine.ack(this.lease(d))));
      this.credit -= got.length;
      // An auto-acked message is pushed while the connection lasts, even if the subscription
      // ended meanwhile: the subscriber reads events until its stream's END.
      if (options.ack === "explicit" && (res.ended || this.connection.closed)) {
        await this.handBack(got);
        break;
      }
      for (const delivery of got) this.push(delivery);
    }
  }

  private push(delivery: Delivery): void {
    const { meta } = deliveryRecord(delivery);
    this.connection.pushEvent({
      appProtoId: AppProtoId.MAILBOX,
      corrId: this.req.corrId,
      tenantId: this.req.tenantId,
      meta,
      body: delivery.body,
      e2e: delivery.e2e,
    });
  }

  /** Nobody will take these: the leases end now (NACK, no delay), without an error of their own. */
  private async handBack(deliveries: Delivery[]): Promise<void> {
    await Promise.all(deliveries.map((d) => this.engine.nack(this.lease(d), 0).catch(() => {})));
  }

  private lease(d: Delivery): { tenant: string; receipt: string } {
    return { tenant: this.options.tenant, receipt: d.receipt };
  }

  /**
   * The request side carries nothing but its END, which ends the subscription. Body bytes are
   * a subscriber speaking an older contract: refused with 400 `bad_meta`.
   */
  private async watchRequestSide(): Promise<void> {
    try {
      for await (const chunk of this.req.body) {
        if (chunk.byteLength > 0) {
          this.res.fail(
            new OapError(
              "bad_meta",
              "a subscription's request carries no body: grant credit with EVENT|ACK_REQ frames ({credit: n})",
            ),
          );
          break;
        }
      }
    } catch {
      // The stream was torn down (connection gone, deadline): the abort already ended us.
    } finally {
      this.end();
    }
  }

  private end(): void {
    this.stop.abort();
    this.wake();
  }

  private wake(): void {
    const wake = this.wakeUp;
    this.wakeUp = undefined;
    wake?.();
  }
}

function subscriptionsOf(connection: ConnectionContext, create: true): Map<bigint, Subscription>;
function subscriptionsOf(connection: ConnectionContext, create: false): Map<bigint, Subscription> | undefined;
function subscriptionsOf(
  connection: ConnectionContext,
  create: boolean,
): Map<bigint, Subscription> | undefined {
  let live = connection.locals.get(LOCALS_KEY) as Map<bigint, Subscription> | undefined;
  if (!live && create) {
    live = new Map();
    connection.locals.set(LOCALS_KEY, live);
  }
  return live;
}
