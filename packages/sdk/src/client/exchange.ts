import {
  decodeStartPayload,
  Flags,
  type Frame,
  type FrameInit,
  type Meta,
  type StartPayload,
} from "@omnigate/oap";
import { BodyQueue, type BufferAccount } from "./body-queue.js";
import {
  OapClientError,
  type OapConnectionError,
  OapProtocolError,
  OapRequestError,
  OapTimeoutError,
  withCorrId,
} from "./errors.js";
import { type RequestStreamId, requestFrames } from "./request-frames.js";

/** The status line of a response: code < 400 and the meta of its START frame. */
export interface ResponseHead {
  code: number;
  meta: Meta;
}

/** What an exchange needs from its connection. */
export interface ExchangeHost {
  readonly maxFrame: number;
  readonly account: BufferAccount;
  /** Queues a frame; false when the caller should wait for `drained()`. Throws once the connection is gone. */
  send(frame: FrameInit): boolean;
  drained(): Promise<void>;
  /** The final RESP END arrived: forget the stream and free its slot. */
  finish(exchange: Exchange): void;
  /** The node answered 503 shutting_down: it is draining this connection. */
  draining(): void;
}

/**
 * One request/response stream on a connection, from the caller's START to the node's final
 * RESP END. The stream is tracked (and keeps its inflight slot) until that END arrives or the
 * connection dies — even after the caller gave up on it, because the node still counts it.
 */
export class Exchange {
  readonly head: Promise<ResponseHead>;
  readonly body: BodyQueue;
  /** Resolves when the node's final frame arrived or the connection died. */
  readonly finished: Promise<void>;
  /** The stream holds one of the connection's inflight slots. */
  readonly holdsSlot: boolean;
  /** performance.now() at which the call's deadline passes (Infinity: none). */
  readonly deadlineAt: number;
  private resolveHead!: (head: ResponseHead) => void;
  private rejectHead!: (error: unknown) => void;
  private resolveFinished!: () => void;
  private headSettled = false;
  private startSent = false;
  private requestEnded = false;
  /** end() was called: later sends are refused. */
  private endCalled = false;
  private done = false;
  private failure: OapClientError | undefined;
  private sendChain: Promise<void> = Promise.resolve();

  constructor(
    private readonly host: ExchangeHost,
    readonly id: RequestStreamId,
    private readonly start: { meta: Meta; cap: Uint8Array | undefined },
    holdsSlot: boolean,
    deadlineAt = Number.POSITIVE_INFINITY,
  ) {
    this.holdsSlot = holdsSlot;
    this.deadlineAt = deadlineAt;
    this.head = new Promise<ResponseHead>((resolve, reject) => {
      this.resolveHead = resolve;
      this.rejectHead = reject;
    });
    // The caller may only read the body; a rejected head must not count as unhandled.
    this.head.catch(() => {});
    this.finished = new Promise((resolve) => {
      this.resolveFinished = resolve;
    });
    this.body = new BodyQueue(host.account);
  }

  get corrId(): bigint {
    return this.id.corrId;
  }

  /** The error the caller sees, once the stream failed. */
  get error(): OapClientError | undefined {
    return this.failure;
  }

  get isFinished(): boolean {
    return this.done;
  }

  get hasEndedRequest(): boolean {
    return this.requestEnded;
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
          {
            code: 400,
            reason: "stream_ended",
            corrId: this.corrId,
            retryable: false,
          },
        ),
      );
    }
    if (end) this.endCalled = true;
    const run = this.sendChain.then(() => this.sendNow(body, end));
    this.sendChain = run.catch(() => {});
    return run;
  }

  /** A RESP frame for this corr_id arrived. */
  onFrame(frame: Frame): void {
    if (this.done) return;
    if (!this.failure) this.deliver(frame);
    if (frame.flags & Flags.END) this.complete();
  }

  /** The connection died: the stream fails (the reader still gets what arrived before). */
  connectionLost(error: OapConnectionError): void {
    if (this.done) return;
    this.done = true;
    this.fail(withCorrId(error, this.corrId), false);
    this.resolveFinished();
  }

  /**
   * Drops the response body's unread bytes, if any: the reader gets `error` next. Used once the
   * response ended, when its reader left (its signal aborted) or never came (see Connection).
   */
  dropUnread(error: OapClientError): void {
    this.body.dropUnread(withCorrId(error, this.corrId));
  }

  /** The caller gave up (deadline, abort): fail now, drop buffered bytes, keep tracking until END. */
  abandon(error: OapClientError): void {
    if (this.failure || (this.done && this.headSettled)) return;
    this.fail(withCorrId(error, this.corrId), true);
    this.body.discard();
    if (!this.startSent && !this.done) {
      // The node never saw this stream: its slot is free at once.
      this.done = true;
      this.host.finish(this);
      this.resolveFinished();
    }
  }

  private async sendNow(body: Uint8Array, end: boolean): Promise<void> {
    if (this.failure) throw this.failure;
    // The node already answered in full; it no longer reads this stream.
    if (this.done) return;
    const start = this.startSent ? undefined : this.start;
    for (const frame of requestFrames(
      this.id,
      { ...(start ? { start } : {}), body, end },
      this.host.maxFrame,
    )) {
      if (this.failure) throw this.failure;
      if (this.done) return;
      const room = this.host.send(frame);
      this.startSent = true;
      if (frame.flags & Flags.END) this.requestEnded = true;
      if (!room) await this.host.drained();
    }
  }

  private deliver(frame: Frame): void {
    const isError = frame.code >= 400;
    if (!this.headSettled) {
      if (!(frame.flags & Flags.START)) {
        this.fail(protocolError(this.corrId, "the node sent a response frame before its START frame"), false);
        return;
      }
      const start = this.parseStart(frame);
      if (!start) return;
      if (isError) {
        this.failFromNode(frame.code, start.meta);
        return;
      }
      this.headSettled = true;
      this.resolveHead({ code: frame.code, meta: start.meta });
      this.pushBody(start.body);
      return;
    }
    if (isError) {
      // Error frames always use the START layout so the reason travels in meta.
      const start = this.parseStart(frame);
      if (start) this.failFromNode(frame.code, start.meta);
      return;
    }
    if (frame.flags & Flags.START) {
      this.fail(protocolError(this.corrId, "the node sent a second START frame on one stream"), false);
      return;
    }
    this.pushBody(frame.payload);
  }

  private failFromNode(code: number, meta: Meta): void {
    // The node drains this connection: later calls must go to a new one (specs/oap-1.md §7).
    if (meta.reason === "shutting_down") this.host.draining();
    this.fail(serverError(code, meta, this.corrId), false);
  }

  private parseStart(frame: Frame): StartPayload | undefined {
    try {
      return decodeStartPayload(frame.payload);
    } catch {
      this.fail(
        protocolError(this.corrId, "the node sent a START frame whose meta is not a JSON object"),
        false,
      );
      return undefined;
    }
  }

  private pushBody(bytes: Uint8Array): void {
    if (bytes.byteLength === 0) return;
    this.body.push(
      Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    );
  }

  private complete(): void {
    this.done = true;
    if (!this.failure) {
      if (this.headSettled) this.body.end();
      else this.fail(protocolError(this.corrId, "the node ended the stream without a response"), false);
    }
    this.host.finish(this);
    this.resolveFinished();
  }

  private fail(error: OapClientError, discard: boolean): void {
    if (this.failure) return;
    this.failure = error;
    if (!this.headSettled) {
      this.headSettled = true;
      this.rejectHead(error);
    }
    this.body.fail(error, discard);
  }
}

/** A node error frame as a typed error: its "timeout" reason means the caller's deadline expired. */
export function serverError(code: number, meta: Meta, corrId: bigint): OapClientError {
  if (meta.reason === "timeout") {
    const message = typeof meta.message === "string" ? meta.message : "the node reports the deadline expired";
    return new OapTimeoutError(message, corrId);
  }
  return new OapRequestError(code, meta, corrId);
}

function protocolError(corrId: bigint, message: string): OapProtocolError {
  return new OapProtocolError(message, corrId);
}
