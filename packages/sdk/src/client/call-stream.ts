import {
  asBuffer,
  decodeStartPayload,
  encodeMeta,
  Flags,
  type Frame,
  type FrameInit,
  HEADER_LEN,
  type Meta,
  type StartFrameInit,
  type StartPayload,
} from "@omnigate/oap";
import type { BufferAccount } from "./body-queue.js";
import { type CallBudget, callerAbortError } from "./call-scope.js";
import type { CallTarget } from "./call-spec.js";
import {
  type OapClientError,
  type OapConnectionError,
  OapProtocolError,
  OapRequestError,
  OapTimeoutError,
  withCorrId,
} from "./errors.js";
import { eventFromFrame, type OapEvent } from "./events.js";
import { requestFrames } from "./request-frames.js";

/** The status line of a response: code < 400 and the meta of its START frame. */
export interface ResponseHead {
  code: number;
  meta: Meta;
  /** The response frames carry APP_E2E: the body is end-to-end encrypted by the app. */
  e2e: boolean;
}

/** What a stream needs from its connection. */
export interface StreamHost {
  readonly maxFrame: number;
  /** The capability the node bound to this connection at HELLO: START frames carrying it may omit it. */
  readonly boundCap: Uint8Array | undefined;
  readonly account: BufferAccount;
  /** Queues a frame; false when the caller should wait for `drained()`. Throws once the connection is gone. */
  send(frame: FrameInit): boolean;
  /** send() for a START frame given as meta and body (see FrameWriter.writeStart). */
  sendStart(frame: StartFrameInit): boolean;
  drained(): Promise<void>;
  /** The stream is over (the node's final frame, or given up before it was sent): forget it, free its slot. */
  finish(stream: CallStream): void;
  /** The node answered 503 shutting_down: it is draining this connection. */
  draining(): void;
}

/**
 * One stream on a connection, from the caller's START to the node's final RESP END: it sends
 * the request frames and holds the RESP frames to the rules of OAP/1 (START first, error
 * frames, a single START, END). Subclasses decide what the caller gets: a head and a body
 * queue (Exchange, for stream()), or one collected response (UnaryCall, for request()).
 *
 * The connection tracks the stream, and it keeps its inflight slot, until that END arrives or
 * the connection dies — even after the caller gave up on it, because the node still counts it.
 */
export abstract class CallStream {
  /** Assigned by the connection when it opens the stream. */
  corrId = 0n;
  protected host!: StreamHost;
  private headSettled = false;
  private startSent = false;
  /** The node's final frame arrived, the connection died, or the stream was dropped before it was sent. */
  private done = false;
  private failure: OapClientError | undefined;
  private onCallerAbort: (() => void) | undefined;

  constructor(
    private readonly target: CallTarget,
    /** The START frame's meta, as made by encodeMeta. */
    private readonly startMeta: Uint8Array | undefined,
    protected readonly budget: CallBudget,
    /** The stream holds one of the connection's inflight slots. */
    readonly holdsSlot: boolean,
  ) {}

  /** performance.now() at which the call's deadline passes (Infinity: none). */
  get deadlineAt(): number {
    return this.budget.deadlineAt;
  }

  /** The stream failed; it may stay tracked until the node ends it. */
  get hasFailed(): boolean {
    return this.failure !== undefined;
  }

  /** The node's final frame arrived, or the stream ended without one. */
  protected get isDone(): boolean {
    return this.done;
  }

  /** The connection opened the stream under `corrId`: its RESP frames arrive here from now on. */
  attach(host: StreamHost, corrId: bigint): void {
    this.host = host;
    this.corrId = corrId;
    const signal = this.budget.callerSignal;
    if (signal === undefined) return;
    if (signal.aborted) {
      this.callerAborted(signal);
      return;
    }
    this.onCallerAbort = () => this.callerAborted(signal);
    signal.addEventListener("abort", this.onCallerAbort, { once: true });
  }

  /** A RESP frame for this corr_id arrived. */
  onFrame(frame: Frame): void {
    if (this.done) return;
    if (!this.failure) this.deliver(frame);
    if (frame.flags & Flags.END) this.complete();
  }

  /**
   * An EVENT frame under this stream's corr_id: a push that belongs to the stream (e.g. a
   * mailbox subscription's message). Taken only from the stream's own app and tenant, after
   * its START went out and before its response ended.
   */
  onEvent(frame: Frame): void {
    if (this.done || this.failure || !this.startSent) return;
    if (frame.appProtoId !== this.target.appProtoId || frame.tenantId !== this.target.tenantId) return;
    this.onPushed(eventFromFrame(frame));
  }

  /** The connection died: the stream fails (a reader still gets what arrived before). */
  connectionLost(error: OapConnectionError): void {
    if (this.done) return;
    this.done = true;
    this.fail(withCorrId(error, this.corrId), false);
    this.finished();
  }

  /** The call's deadline passed while its stream was open (see DeadlineTimer). */
  expire(): void {
    this.abandon(new OapTimeoutError(`deadline of ${this.budget.deadlineMs} ms expired`, this.corrId));
  }

  /**
   * The caller gave up (deadline, abort, client closed, a limit): fail now and drop the body,
   * also what still arrives; keep tracking the stream until the node ends it.
   */
  abandon(error: OapClientError): void {
    if (this.failure || this.done) return;
    this.fail(withCorrId(error, this.corrId), true);
    if (!this.startSent) {
      // The node never saw this stream: its slot is free at once.
      this.done = true;
      this.host.finish(this);
      this.finished();
    }
  }

  /** The response head arrived (code < 400); `e2e`: its frames carry APP_E2E. */
  protected abstract onHead(code: number, meta: Meta, e2e: boolean): void;
  /** A piece of the response body arrived (never empty). */
  protected abstract onBody(chunk: Buffer): void;
  /** The response ended well: the node's END after a head. */
  protected abstract onEnd(): void;
  /** The stream failed with `error`; `abandoned`: the caller gave up, so what is buffered goes too. */
  protected abstract onFail(error: OapClientError, abandoned: boolean): void;

  /** An EVENT frame that belongs to this stream arrived; ignored unless a subclass takes them. */
  protected onPushed(_event: OapEvent): void {}

  /** The stream is no longer tracked by its connection. */
  protected finished(): void {}

  /** The caller's signal fired. */
  protected callerAborted(signal: AbortSignal): void {
    this.abandon(callerAbortError(signal, this.corrId));
  }

  /** The call no longer needs its caller's signal. */
  protected unwatchSignal(): void {
    if (!this.onCallerAbort) return;
    this.budget.callerSignal?.removeEventListener("abort", this.onCallerAbort);
    this.onCallerAbort = undefined;
  }

  /**
   * Sends one piece of the request body; the first piece opens the request with START (meta,
   * capability). A piece that fits one frame is written at once and the result says whether
   * the socket still has room. A longer one goes out frame by frame, waiting for the socket to
   * drain in between, and the result is a promise of that. Sends nothing once the node has
   * answered in full; throws the stream's error once it failed.
   */
  protected sendPiece(body: Uint8Array, end: boolean): boolean | Promise<boolean> {
    if (this.failure) throw this.failure;
    if (this.done) return true;
    const target = this.target;
    const first = !this.startSent;
    // The node uses the connection's bound capability for STARTs without one: no need to resend it.
    const cap = target.cap === this.host.boundCap ? undefined : target.cap;
    const capLen = first ? (cap?.byteLength ?? 0) : 0;
    const metaLen = first ? 2 + (this.startMeta?.byteLength ?? 0) : 0;
    if (HEADER_LEN + capLen + metaLen + body.byteLength > this.host.maxFrame) {
      const start = first ? { meta: this.startMeta, cap } : undefined;
      const id = { ...target, corrId: this.corrId };
      return this.sendFrames(requestFrames(id, { start, body, end }, this.host.maxFrame));
    }
    const flags =
      Flags.REQ |
      (target.e2e ? Flags.APP_E2E : 0) |
      (target.compressed ? Flags.COMP : 0) |
      (end ? Flags.END : 0);
    if (first) {
      // The common request: one START frame, encoded straight into the connection's batch.
      const room = this.host.sendStart({
        flags: flags | Flags.START,
        appProtoId: target.appProtoId,
        tenantId: target.tenantId,
        corrId: this.corrId,
        cap,
        meta: this.startMeta,
        body,
      });
      this.startSent = true;
      return room;
    }
    // An empty piece that does not end the request has nothing to say.
    if (!end && body.byteLength === 0) return true;
    return this.host.send({
      flags,
      appProtoId: target.appProtoId,
      tenantId: target.tenantId,
      corrId: this.corrId,
      payload: body,
    });
  }

  /**
   * Sends a one-frame EVENT (EVENT|START|END plus `extraFlags`) under this stream's corr_id,
   * app and tenant: how a client talks to the service about an open stream (a subscription's
   * credit). Nothing is sent before the START or once the node ended the stream; throws the
   * stream's error once it failed.
   */
  protected sendEventFrame(meta: Meta, extraFlags: number): boolean {
    if (this.failure) throw this.failure;
    if (this.done || !this.startSent) return true;
    const target = this.target;
    return this.host.sendStart({
      flags: Flags.EVENT | Flags.START | Flags.END | extraFlags,
      appProtoId: target.appProtoId,
      tenantId: target.tenantId,
      corrId: this.corrId,
      meta: encodeMeta(meta),
    });
  }

  private async sendFrames(frames: FrameInit[]): Promise<boolean> {
    let room = true;
    for (const frame of frames) {
      if (!room) await this.host.drained();
      if (this.failure) throw this.failure;
      if (this.done) return true;
      room = this.host.send(frame);
      this.startSent = true;
    }
    return room;
  }

  private deliver(frame: Frame): void {
    const isError = frame.code >= 400;
    if (!this.headSettled) {
      if (!(frame.flags & Flags.START)) {
        this.fail(protocolError(this.corrId, "the node sent a response frame before its START frame"), false);
        return;
      }
      const payload = frame.payload;
      if (!isError && payload.byteLength >= 2 && payload[0] === 0 && payload[1] === 0) {
        // No meta (meta_len 0), the usual reply: no JSON and no intermediate object.
        this.headSettled = true;
        this.onHead(frame.code, {}, (frame.flags & Flags.APP_E2E) !== 0);
        this.pushBody(payload.subarray(2));
        return;
      }
      const start = this.parseStart(frame);
      if (!start) return;
      if (isError) {
        this.failFromNode(frame.code, start.meta);
        return;
      }
      this.headSettled = true;
      this.onHead(frame.code, start.meta, (frame.flags & Flags.APP_E2E) !== 0);
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
    if (bytes.byteLength === 0 || this.failure) return;
    this.onBody(asBuffer(bytes));
  }

  private complete(): void {
    this.done = true;
    if (!this.failure) {
      if (this.headSettled) this.onEnd();
      else this.fail(protocolError(this.corrId, "the node ended the stream without a response"), false);
    }
    this.host.finish(this);
    this.finished();
  }

  private fail(error: OapClientError, abandoned: boolean): void {
    if (this.failure) return;
    this.failure = error;
    this.headSettled = true;
    this.onFail(error, abandoned);
  }
}

/** A node error frame as a typed error: its "timeout" reason means the caller's deadline expired. */
function serverError(code: number, meta: Meta, corrId: bigint): OapClientError {
  if (meta.reason === "timeout") {
    const message = typeof meta.message === "string" ? meta.message : "the node reports the deadline expired";
    return new OapTimeoutError(message, corrId);
  }
  return new OapRequestError(code, meta, corrId);
}

function protocolError(corrId: bigint, message: string): OapProtocolError {
  return new OapProtocolError(message, corrId);
}
