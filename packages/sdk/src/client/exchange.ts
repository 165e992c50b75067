import { Flags, type Meta } from "@omnigate/oap";
import { BodyQueue } from "./body-queue.js";
import type { CallBudget } from "./call-scope.js";
import type { CallTarget } from "./call-spec.js";
import { CallStream, type ResponseHead, type StreamHost } from "./call-stream.js";
import { OapAbortError, OapClientError } from "./errors.js";
import type { OapEvent } from "./events.js";
import { withCorrId } from "./with-corr-id.js";

/**
 * The stream behind `client.stream()` (and the HELLO): the request body is sent piece by
 * piece, the response arrives as a head promise and a body queue read at the caller's pace.
 */
export class Exchange extends CallStream {
  readonly head: Promise<ResponseHead>;
  /** Made when the connection opens the stream: its bytes count against the connection's buffer bound. */
  body!: BodyQueue;
  private resolveHead!: (head: ResponseHead) => void;
  private rejectHead!: (error: unknown) => void;
  /** Takes the EVENT frames pushed under this stream's corr_id (StreamOptions.onEvent). */
  onPushedEvent: ((event: OapEvent) => void) | undefined;
  /** end() was called: later sends are refused. */
  private endCalled = false;
  private sendChain: Promise<void> = Promise.resolve();

  constructor(target: CallTarget, meta: Uint8Array | undefined, budget: CallBudget, holdsSlot: boolean) {
    super(target, meta, budget, holdsSlot);
    this.head = new Promise<ResponseHead>((resolve, reject) => {
      this.resolveHead = resolve;
      this.rejectHead = reject;
    });
    // The caller may only read the body; a rejected head must not count as unhandled.
    this.head.catch(() => {});
  }

  override attach(host: StreamHost, corrId: bigint): void {
    this.body = new BodyQueue(host.account);
    super.attach(host, corrId);
  }

  /**
   * Sends request body (the first call also sends START with meta), split by max_frame and
   * waiting for socket drain. Calls run one after another in call order.
   */
  send(body: Uint8Array, end: boolean): Promise<void> {
    if (this.endCalled) {
      return Promise.reject(
        new OapClientError(
          `the request side of stream ${this.corrId} already ended; nothing more can be sent`,
          { code: 400, reason: "stream_ended", corrId: this.corrId, retryable: false },
        ),
      );
    }
    if (end) this.endCalled = true;
    const run = this.sendChain.then(() => this.sendNow(body, end));
    this.sendChain = run.catch(() => {});
    return run;
  }

  /**
   * Sends a one-frame EVENT under this stream's corr_id (`ackRequest`: with ACK_REQ, e.g. a
   * credit grant). Queued behind the sends before it, so it never precedes the START.
   */
  sendEvent(meta: Meta, ackRequest: boolean): Promise<void> {
    const run = this.sendChain.then(async () => {
      const room = this.sendEventFrame(meta, ackRequest ? Flags.ACK_REQ : 0);
      if (!room) await this.host.drained();
    });
    this.sendChain = run.catch(() => {});
    return run;
  }

  /**
   * Drops the response body's unread bytes, if any: the reader gets `error` next. Used once the
   * response ended, when its reader left (its signal aborted) or never came (see Connection).
   */
  dropUnread(error: OapClientError): void {
    this.body.dropUnread(withCorrId(error, this.corrId));
  }

  protected onHead(code: number, meta: Meta, e2e: boolean): void {
    this.resolveHead({ code, meta, e2e });
  }

  protected override onPushed(event: OapEvent): void {
    this.onPushedEvent?.(event);
  }

  protected onBody(chunk: Buffer): void {
    this.body.push(chunk);
  }

  protected onEnd(): void {
    this.body.end();
  }

  protected onFail(error: OapClientError, abandoned: boolean): void {
    // No effect once the head resolved; the reader learns it from the body.
    this.rejectHead(error);
    this.body.fail(error, abandoned);
    if (abandoned) this.body.discard();
  }

  /** The caller's signal still matters until the body is read or dropped. */
  protected override finished(): void {
    this.body.onSettled(() => this.unwatchSignal());
  }

  /**
   * Before the response ended, an abort gives the call up. After it, the deadline no longer
   * applies (see the unread-body rule in Connection) but the signal does: it drops the unread body.
   */
  protected override callerAborted(signal: AbortSignal): void {
    if (!this.isDone) {
      super.callerAborted(signal);
      return;
    }
    this.dropUnread(
      new OapAbortError(
        "the call was aborted by its signal; its unread response body was dropped",
        undefined,
        signal.reason,
      ),
    );
  }

  private async sendNow(body: Uint8Array, end: boolean): Promise<void> {
    const room = await this.sendPiece(body, end);
    if (!room) await this.host.drained();
  }
}
