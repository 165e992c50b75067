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
} from "@omnigate/oap/internal";
import type { BufferAccount } from "./body-queue.js";
import { type CallBudget, callerAbortError } from "./call-scope.js";
import type { CallTarget } from "./call-spec.js";
import {
  type OapClientError,
  type OapConnectionError,
  OapProtocolError,
  OapRequestError,
  OapTimeoutError,
} from "./errors.js";
import { eventFromFrame, type OapEvent } from "./events.js";
import { requestFrames } from "./request-frames.js";
import { withCorrId } from "./with-corr-id.js";

/** The status line of a response: code < 400 and the meta of its START frame. */
export interface ResponseHead {
  /** The OAP/1 status code (below 400: an error status rejects instead). */
  code: number;
  /** The START frame's meta, as the app sent it. */
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
 * Where a stream is in its life (`CallStream.phase`), as `ws` holds a socket's in `readyState`:
 *
 *   unsent ──START sent──▶ sent ──head──▶ head
 *     └──head──▶ early ──START sent──▶ head
 *   unsent, sent, early, head ──fail (error frame, bad frame, caller gave up)──▶ failed
 *   any phase but ended ──node's END / connection lost / dropped while unsent──▶ ended
 *
 * - `unsent`: attached to its connection; the START frame has not gone out.
 * - `sent`: the START went out; the node's response head has not arrived.
 * - `early`: the response head arrived before our START went out. Only a misbehaving node does
 *   this (it answered a corr_id it never saw); the stream takes the head as always and still
 *   opens its request with START, so it reads as `head` for responses and `unsent` for requests.
 * - `head`: the START went out and the head (code < 400) arrived: body frames may follow.
 * - `failed`: the stream failed (`failure` says why) but stays tracked until the node's END.
 * - `ended`: the connection no longer tracks the stream (the node's END, the connection died,
 *   or it was dropped before its START went out). It ended well unless `failure` is set.
 */
type StreamPhase = "unsent" | "sent" | "early" | "head" | "failed" | "ended";

/** The legal moves between phases; setPhase() holds every change to it. */
const NEXT_PHASES: Readonly<Record<StreamPhase, Readonly<Partial<Record<StreamPhase, true>>>>> = {
  unsent: { sent: true, early: true, failed: true, ended: true },
  sent: { head: true, failed: true, ended: true },
  early: { head: true, failed: true, ended: true },
  head: { failed: true, ended: true },
  failed: { ended: true },
  ended: {},
};

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
  private phase: StreamPhase = "unsent";
  /**
   * Why the stream failed: data, not a phase. It is set on entering `failed` and kept in
   * `ended`, where it tells a failed stream (sends throw it) from one that ended well.
   */
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
    return this.phase === "ended";
  }

  /** The connection opened the stream under `corrId`: its RESP frames arrive here from now on. */
  attach(host: StreamHost, corrId: bigint): void {
    this.host = host;
    this.corrId = corrId;
    this.target.trace?.attached(corrId);
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
    const phase = this.phase;
    if (phase === "ended") return;
    if (phase !== "failed") this.deliver(frame);
    if (frame.flags & Flags.END) this.complete();
  }

  /**
   * An EVENT frame under this stream's corr_id: a push that belongs to the stream (e.g. a
   * mailbox subscription's message). Taken only from the stream's own app and tenant, after
   * its START went out and before its response ended.
   */
  onEvent(frame: Frame): void {
    // Only `sent` and `head` qualify: not before the START, not once failed or ended.
    if (this.phase !== "sent" && this.phase !== "head") return;
    if (frame.appProtoId !== this.target.appProtoId || frame.tenantId !== this.target.tenantId) return;
    this.onPushed(eventFromFrame(frame));
  }

  /** The connection died: the stream fails (a reader still gets what arrived before). */
  connectionLost(error: OapConnectionError): void {
    if (this.phase === "ended") return;
    // Ended before fail(): onFail sees the stream as done, and fail() keeps it `ended`.
    this.setPhase("ended");
    this.fail(withCorrId(error, this.corrId), false);
    this.done();
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
    const phase = this.phase;
    if (phase === "failed" || phase === "ended") return;
    this.fail(withCorrId(error, this.corrId), true);
    if (phase === "unsent" || phase === "early") {
      // The node never saw this stream: its slot is free at once.
      this.setPhase("ended");
      this.host.finish(this);
      this.done();
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

  /** The stream is over: its span learns how (a client.stream() span ends here), then finished(). */
  private done(): void {
    this.target.trace?.streamDone(this.failure);
    this.finished();
  }

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
    if (this.phase === "ended") return true;
    const target = this.target;
    const first = this.phase === "unsent" || this.phase === "early";
    // The node uses the connection's bound capability for STARTs without one: no need to resend it.
    const cap = target.cap === this.host.boundCap ? undefined : target.cap;
    const capLen = first ? (cap?.length ?? 0) : 0;
    const metaLen = first ? 2 + (this.startMeta?.length ?? 0) : 0;
    if (HEADER_LEN + capLen + metaLen + body.length > this.host.maxFrame) {
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
      this.startWentOut();
      return room;
    }
    // An empty piece that does not end the request has nothing to say.
    if (!end && body.length === 0) return true;
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
    // Not failed: so nothing to send in `unsent`, `early` or `ended`.
    if (this.phase !== "sent" && this.phase !== "head") return true;
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
      if (this.phase === "ended") return true;
      room = this.host.send(frame);
      this.startWentOut();
    }
    return room;
  }

  /** A request frame went out (the first one is the START): `unsent` and `early` move on. */
  private startWentOut(): void {
    const phase = this.phase;
    if (phase === "unsent") this.setPhase("sent");
    else if (phase === "early") this.setPhase("head");
  }

  /** The response head (code < 400) arrived. */
  private headArrived(): void {
    this.setPhase(this.phase === "unsent" ? "early" : "head");
  }

  /** Every change of phase goes through here; an illegal one is a bug in this class. */
  private setPhase(next: StreamPhase): void {
    if (NEXT_PHASES[this.phase][next] !== true) {
      throw new Error(`CallStream: illegal phase change ${this.phase} -> ${next}`);
    }
    this.phase = next;
  }

  private deliver(frame: Frame): void {
    const isError = frame.code >= 400;
    // deliver() runs in unsent, sent, early or head: the first two still wait for the head.
    if (this.phase === "unsent" || this.phase === "sent") {
      if (!(frame.flags & Flags.START)) {
        this.fail(protocolError(this.corrId, "the node sent a response frame before its START frame"), false);
        return;
      }
      const payload = frame.payload;
      if (!isError && payload.length >= 2 && payload[0] === 0 && payload[1] === 0) {
        // No meta (meta_len 0), the usual reply: no JSON and no intermediate object.
        this.headArrived();
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
      this.headArrived();
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
    if (bytes.length === 0 || this.failure) return;
    this.onBody(asBuffer(bytes));
  }

  private complete(): void {
    const phase = this.phase;
    this.setPhase("ended");
    if (!this.failure) {
      if (phase === "head" || phase === "early") this.onEnd();
      else this.fail(protocolError(this.corrId, "the node ended the stream without a response"), false);
    }
    this.host.finish(this);
    this.done();
  }

  private fail(error: OapClientError, abandoned: boolean): void {
    if (this.failure) return;
    this.failure = error;
    // A stream that already ended (connection lost, END without a head) stays `ended`.
    if (this.phase !== "ended") this.setPhase("failed");
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
