import {
  BoundedInflater,
  DEFAULT_INFLATE_LIMITS,
  DEFAULT_MAX_CAP_LEN,
  DEFAULT_MAX_FRAME,
  DEFAULT_MAX_INFLIGHT,
  errorFrame,
  Flags,
  type Frame,
  FrameDecoder,
  FrameHeaderError,
  FrameWriter,
  HEADER_LEN,
  isPadFrame,
  type Meta,
  OapError,
  type OpenStream,
  type Reason,
  RequestStreamTable,
  startMeta,
  startMetaLength,
  toOapError,
  viewOf,
} from "@omnigate/oap/internal";
import { SessionConnection } from "./connection-context.js";
import { type ConnectionTimeoutLimits, ConnectionTimeouts, type TimeoutKind } from "./connection-timeouts.js";
import { ReadGate } from "./read-gate.js";
import { ServerRequest } from "./request.js";
import { StreamResponse } from "./response.js";
import type { CloseKind, SessionTransport, TransportKind } from "./transport.js";
import type { IncomingEvent, IncomingRequest, ResponseWriter } from "./types.js";

/**
 * Per-connection limits of an OAP/1 server (serve()'s `limits`, the node's listeners): frame
 * and capability sizes, concurrent streams, buffers, deadlines, COMP inflation and timeouts.
 */
export interface SessionLimits extends ConnectionTimeoutLimits {
  /** Largest frame accepted, header included (HELLO's `max_frame`); larger is 413. */
  maxFrame: number;
  /** Streams open at once on one connection (HELLO's `max_inflight`); one more is 429. */
  maxInflight: number;
  /** Largest capability token a START frame may carry. */
  maxCapLen: number;
  /** Cost of request body chunks buffered for services before the socket stops reading. */
  readBufferBytes: number;
  /** Reply bytes queued for a peer that is not reading before the socket stops reading. */
  writeBufferBytes: number;
  /** Deadline for requests whose meta names none, in ms. */
  defaultDeadlineMs: number;
  /** Upper bound on any requested deadline, in ms. */
  maxDeadlineMs: number;
  /** Hard cap on one COMP request body once inflated (413 `decompress_cap`). */
  compMaxOutputBytes: number;
  /** Ceiling on a COMP body's inflated ÷ compressed size (413 `ratio_cap`). */
  compMaxRatio: number;
  /** Inflated bytes below which the ratio cap does not apply. */
  compRatioGraceBytes: number;
}

export const DEFAULT_SESSION_LIMITS: SessionLimits = {
  maxFrame: DEFAULT_MAX_FRAME,
  maxInflight: DEFAULT_MAX_INFLIGHT,
  maxCapLen: DEFAULT_MAX_CAP_LEN,
  readBufferBytes: 4 * 1024 * 1024,
  writeBufferBytes: 1024 * 1024,
  defaultDeadlineMs: 30_000,
  maxDeadlineMs: 300_000,
  compMaxOutputBytes: DEFAULT_INFLATE_LIMITS.maxOutput,
  compMaxRatio: DEFAULT_INFLATE_LIMITS.maxRatio,
  compRatioGraceBytes: DEFAULT_INFLATE_LIMITS.ratioGraceBytes,
  firstHeaderTimeoutMs: 10_000,
  frameTimeoutMs: 30_000,
  idleTimeoutMs: 300_000,
  writeStallTimeoutMs: 30_000,
};

/** How long a peer that was sent a fatal error frame has to read it before the socket is destroyed. */
const FATAL_CLOSE_GRACE_MS = 2_000;
/** Retry hint on streams refused while draining: another node, or this one restarted, will answer. */
const SHUTTING_DOWN_RETRY_MS = 1_000;
const REQUEST_START = Flags.REQ | Flags.START;

/**
 * Where a session is in its life (`ServerSession.phase`), as `ws` holds a socket's in `readyState`:
 *
 *   open ──drain()──▶ draining
 *     │                  │
 *     ├──────────────────┴──fatal error / idle / write stall──▶ closing
 *     │                  │                                         │
 *     └──────────────────┴──────────transport closed───────────────┴──▶ closed
 *
 * - `open`: takes new streams.
 * - `draining`: refuses new streams with 503 shutting_down; drain() resolves once the open
 *   ones have finished.
 * - `closing`: the session gave up on the connection (a fatal error frame went out, it was
 *   idle, its peer stopped reading) and reads nothing more; open streams may still finish
 *   until the transport reports its close.
 * - `closed`: the transport closed; every stream was aborted.
 *
 * drain() on a `closing` or `closed` session changes nothing: it resolves at once, and no
 * frame is read after the session stopped reading (onData checks at each read), so the
 * shutting_down refusal is never due there.
 */
type SessionPhase = "open" | "draining" | "closing" | "closed";

/**
 * The legal moves between phases; setPhase() holds every change to it. `closed` may repeat:
 * the transport reports its close once, and a repeat would only redo the same cleanup.
 */
const NEXT_PHASES: Readonly<Record<SessionPhase, Readonly<Partial<Record<SessionPhase, true>>>>> = {
  open: { draining: true, closing: true, closed: true },
  draining: { closing: true, closed: true },
  closing: { closed: true },
  closed: { closed: true },
};

/** The session reads nothing more and takes no new work: `closing` or `closed`. */
function isShut(phase: SessionPhase): boolean {
  return phase === "closing" || phase === "closed";
}

export interface StreamTarget {
  corrId: bigint;
  appProtoId: number;
  tenantId: bigint;
}

/** Where a session hands its streams and reports what happened on them. */
export interface SessionHandler {
  /** Runs one accepted request; throw or reject with an OapError to fail it. */
  dispatch(req: IncomingRequest, res: ResponseWriter): void | Promise<void>;
  /**
   * An EVENT frame from the peer; throw an OapError to refuse it. Without this hook events
   * are refused as unsupported.
   */
  event?(event: IncomingEvent): void;
  /** A continuation frame's body bytes arrived on an open stream (the START body is on the request). */
  bodyReceived?(target: StreamTarget, bytes: number): void;
  /** A COMP request body finished inflating (or was refused): its sizes, for the ratio metric. */
  inflated?(target: StreamTarget, compressedBytes: number, decompressedBytes: number): void;
  /** A stream ended (any outcome) — for metrics and logs. */
  streamEnded?(info: StreamEndInfo): void;
  /** A frame or stream was refused with this error (by the protocol rules or by dispatch). */
  rejected?(error: OapError, target: StreamTarget): void;
  /** A service threw something that is not an OapError (a bug); the stream got 500 `internal`. */
  serviceError?(error: unknown, req: IncomingRequest): void;
}

export interface StreamEndInfo extends StreamTarget {
  code: number;
  /** Date.now() when the START frame arrived and when the stream ended (reply handed to the writer). */
  startedAt: number;
  endedAt: number;
  /** The reason of an error reply (undefined on success). */
  reason: Reason | undefined;
  /** True when the START frame was refused before any service saw the request. */
  refused: boolean;
  /** Frame bytes (headers included) received and sent on this stream. */
  bytesIn: number;
  bytesOut: number;
  /** Remote address of the connection, "ip:port". */
  peer: string;
  /** The transport that carried the connection. */
  transport: TransportKind;
  /** The request handed to dispatch; absent when its START frame was refused before that. */
  request?: IncomingRequest;
}

interface LiveStream {
  stream: OpenStream;
  request: ServerRequest;
  response: StreamResponse;
  /** Date.now() after which the stream fails with 504 `timeout`. */
  deadline: number;
  deadlineMs: number;
  startedAt: number;
  bytesIn: number;
  /** The START frame carried COMP: every frame of the request must, too. */
  compressed: boolean;
  /** Inflates a COMP body on the way in; absent for plain and APP_E2E (passed-through) bodies. */
  inflater: BoundedInflater | undefined;
}

function liveOf(stream: OpenStream): LiveStream | undefined {
  return stream.state as LiveStream | undefined;
}

/** How often open streams are checked against their deadlines (one sweep per connection). */
const DEADLINE_SWEEP_MS = 25;

/**
 * One OAP/1 connection on the side that receives requests: frame decoder → stream table
 * → handler, with per-stream deadlines, read/write backpressure and graceful drain. The
 * node's gateway runs every connection on it, and so will app backends built with serve().
 */
export class ServerSession {
  private readonly limits: SessionLimits;
  private readonly decoder: FrameDecoder;
  private readonly table: RequestStreamTable;
  private readonly writer: FrameWriter;
  private readonly gate: ReadGate;
  private readonly peer: string;
  private bufferedBodyBytes = 0;
  private phase: SessionPhase = "open";
  /** What services see of this connection: per-connection state and pushed events. */
  readonly connection: SessionConnection;
  private drainWaiters: Array<() => void> = [];
  // Made once per connection, not per stream: every request hands these to its objects.
  private readonly onConsumed = (cost: number): void => this.consumed(cost);
  private readonly onStreamReplied = (stream: OpenStream, code: number): void =>
    this.onResponseEnd(stream, code);
  private sweeper: NodeJS.Timeout | undefined;
  /** Date.now() as of the chunk being processed. */
  private now = Date.now();
  /**
   * True while a received chunk is being processed, i.e. while `now` is current. Read state,
   * not a phase: it turns on and off with every read while the session is `open` or `draining`.
   */
  private inChunk = false;
  private readonly timeouts: ConnectionTimeouts;
  /** Frames decoded so far; tells the timeouts whether a read completed one. */
  private framesReceived = 0;
  private framesAtReadStart = 0;

  constructor(
    private readonly transport: SessionTransport,
    private readonly handler: SessionHandler,
    limits: Partial<SessionLimits> = {},
  ) {
    this.limits = { ...DEFAULT_SESSION_LIMITS, ...limits };
    this.decoder = new FrameDecoder({ maxFrame: this.limits.maxFrame });
    this.table = new RequestStreamTable(this.limits.maxInflight);
    this.writer = new FrameWriter(transport.output);
    this.gate = new ReadGate(transport);
    this.peer = transport.peer;
    this.connection = new SessionConnection(this.peer, this.writer, transport.byteStream);
    this.timeouts = new ConnectionTimeouts(this.limits, this.now);
    transport.attach({
      data: (bytes) => this.onData(bytes),
      readDone: () => this.onReadDone(),
      violation: (error) => {
        if (!isShut(this.phase)) this.failConnection(error);
      },
      closed: () => this.onClose(),
    });
  }

  /** The transport that carries this connection. */
  get transportKind(): TransportKind {
    return this.transport.kind;
  }

  get openStreams(): number {
    return this.table.size;
  }

  /**
   * Bytes this connection holds: request bodies not consumed yet, replies not yet taken by the
   * socket (or held by its shaping sink for a burst), a partial frame.
   */
  get bufferedBytes(): number {
    return (
      this.bufferedBodyBytes +
      this.transport.writableLength +
      this.connection.shapingHeldBytes +
      this.decoder.buffered +
      this.transport.pendingBytes
    );
  }

  /**
   * Applies the connection's time limits (first header, slow frame, idle, a client that
   * does not read) as of `now`; call it periodically — the gateway sweeps every session.
   * Returns the limit that closed the connection, if one did.
   */
  checkTimeouts(now: number): TimeoutKind | undefined {
    if (isShut(this.phase)) return undefined;
    // Streams were open as of this sweep: the idle clock starts when they are gone.
    if (this.table.size > 0) this.timeouts.active(now);
    const kind = this.timeouts.expired(
      now,
      !this.gate.paused,
      this.table.size,
      this.gate.isHeld("write_queue") || this.transport.writableLength > this.limits.writeBufferBytes,
      // bytesWritten counts what was handed to the socket, queued bytes included.
      this.transport.bytesWritten - this.transport.writableLength,
    );
    switch (kind) {
      case undefined:
        return undefined;
      case "first_header":
        this.failConnection(
          new OapError("request_timeout", "no complete frame header arrived in time", { fatal: true }),
        );
        break;
      case "frame":
        this.failConnection(
          new OapError("request_timeout", "a frame did not complete in time", { fatal: true }),
        );
        break;
      case "idle":
        this.close();
        this.stopReading();
        setTimeout(() => this.transport.destroy(), FATAL_CLOSE_GRACE_MS).unref();
        break;
      case "write_stall":
        // It reads nothing, so an error frame would never arrive: just let go of it.
        this.stopReading();
        this.transport.destroy();
        break;
    }
    return kind;
  }

  /** Refuse new streams with 503 `shutting_down`; resolves when the open ones have finished. */
  drain(): Promise<void> {
    if (this.phase === "open") this.setPhase("draining");
    if (this.table.size === 0 || isShut(this.phase)) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** Flushes pending frames and closes the connection; `why` picks the WebSocket close code. */
  close(why: CloseKind = "normal"): void {
    if (isShut(this.phase)) return;
    this.writer.finish();
    this.transport.end(why);
  }

  destroy(): void {
    this.transport.destroy();
  }

  /** Bytes of frames: a TLS read, or one WebSocket message of a read (readDone follows). */
  private onData(chunk: Buffer): void {
    if (isShut(this.phase)) return;
    // One clock read per read from the peer, not per stream: a read often carries dozens of STARTs.
    if (!this.inChunk) {
      this.now = Date.now();
      this.inChunk = true;
      this.framesAtReadStart = this.framesReceived;
    }
    try {
      this.decoder.push(chunk, (frame) => this.onFrame(frame));
    } catch (err) {
      this.inChunk = false;
      // A header failure, or a bug of ours: either way this connection ends, the process does not.
      const fatal =
        err instanceof FrameHeaderError ? err : new OapError("internal", "internal error", { fatal: true });
      this.failConnection(fatal);
    }
  }

  /**
   * A read from the peer has been handed over: its clocks are updated and the replies it
   * produced go out in one write. The transport may hold part of a frame still arriving (a
   * WebSocket message in transit): that counts as a partial frame too.
   */
  private onReadDone(): void {
    if (isShut(this.phase)) return;
    const pending = this.transport.pendingBytes;
    const now = this.inChunk ? this.now : Date.now();
    const newFrame = this.inChunk && this.framesReceived !== this.framesAtReadStart;
    this.inChunk = false;
    this.timeouts.received(
      now,
      newFrame,
      this.decoder.buffered + pending,
      // A message still arriving that is longer than a header has brought its header.
      this.decoder.partialHeader !== undefined || pending >= HEADER_LEN,
    );
    this.limitWriteQueue();
  }

  /**
   * A peer that sends requests but does not read the replies must not make us queue them
   * without bound: stop reading its requests until it has taken what is queued.
   */
  private limitWriteQueue(): void {
    this.writer.flush();
    if (this.gate.isHeld("write_queue") || this.transport.writableLength <= this.limits.writeBufferBytes)
      return;
    this.gate.hold("write_queue");
    this.writer.drained().then(() => this.gate.release("write_queue"));
  }

  /** Answer once, stop reading, close: after a header failure the byte stream cannot be trusted. */
  private failConnection(err: OapError): void {
    this.stopReading();
    const target = { corrId: err instanceof FrameHeaderError ? err.corrId : 0n, appProtoId: 0, tenantId: 0n };
    this.handler.rejected?.(err, target);
    this.abortAll(err);
    this.writer.write(errorFrame(err, target));
    this.writer.finish();
    this.transport.pause();
    this.transport.end("protocol_error");
    // A peer that never reads its error must not keep the socket alive.
    setTimeout(() => this.transport.destroy(), FATAL_CLOSE_GRACE_MS).unref();
  }

  /** The session gives up on the connection (`closing`) unless it already has. */
  private stopReading(): void {
    if (!isShut(this.phase)) this.setPhase("closing");
  }

  /** Every change of phase goes through here; an illegal one is a bug in this class. */
  private setPhase(next: SessionPhase): void {
    if (NEXT_PHASES[this.phase][next] !== true) {
      throw new Error(`ServerSession: illegal phase change ${this.phase} -> ${next}`);
    }
    this.phase = next;
  }

  private onFrame(frame: Frame): void {
    this.framesReceived++;
    const action = this.table.classify(frame);
    switch (action.kind) {
      case "start":
        return this.onStart(action.stream, frame);
      case "continue":
        return this.onContinuation(action.stream, frame);
      case "event":
        // PAD frames (§10.1) are filler: dropped once the header checks passed, before anything sees them.
        if (isPadFrame(frame)) return;
        return this.onEvent(frame);
      case "drop":
        return;
      case "reject": {
        // The error frame ends the aborted stream's corr_id; it lacks START if a reply already began.
        const started = action.aborts ? (liveOf(action.aborts)?.response.started ?? false) : false;
        if (action.aborts) this.abortLive(action.aborts, action.error);
        this.reject(action.error, frame, started);
        if ((frame.flags & REQUEST_START) === REQUEST_START) this.refusedStart(action.error, frame);
        return;
      }
    }
  }

  private onStart(stream: OpenStream, frame: Frame): void {
    let meta: Meta;
    let body: Uint8Array;
    let inflater: BoundedInflater | undefined;
    const compressed = (frame.flags & Flags.COMP) !== 0;
    const e2e = (frame.flags & Flags.APP_E2E) !== 0;
    try {
      this.checkStart(frame);
      const metaLen = startMetaLength(frame.payload);
      meta = startMeta(frame.payload, metaLen);
      // The decoder's payloads are plain Uint8Arrays, which viewOf takes.
      body = viewOf(frame.payload, 2 + metaLen);
      // An APP_E2E body is the app's bytes: compressed or not, it passes through untouched.
      if (compressed && !e2e) {
        inflater = this.newInflater();
        body = this.inflateFirst(inflater, body, stream);
      }
    } catch (err) {
      this.table.refuse(stream);
      this.reject(err as OapError, frame);
      return this.refusedStart(err as OapError, frame);
    }

    const now = this.now;
    const deadlineMs = this.deadlineFor(meta.deadline_ms);
    const deadline = now + deadlineMs;
    const request = new ServerRequest({
      frame,
      meta,
      e2e,
      compressed: compressed && e2e,
      connection: this.connection,
      body,
      requestEnded: stream.requestEnded,
      deadline,
      receivedAt: now,
      onConsumed: this.onConsumed,
    });
    const response = new StreamResponse(stream, this.writer, this.limits.maxFrame, this.onStreamReplied);
    const live: LiveStream = {
      stream,
      request,
      response,
      deadline,
      deadlineMs,
      startedAt: now,
      bytesIn: frame.len,
      compressed,
      inflater,
    };
    stream.state = live;
    this.sweepDeadlines();
    this.charge(request.firstBodyCost);
    this.run(live);
  }

  /**
   * Hands an EVENT frame to the handler. A refusal is an error frame on the event's corr_id;
   * when that corr_id names an open stream (a subscription the event was for), the error
   * ends that stream too, as any error frame ends its corr_id for the peer (§4.5).
   */
  private onEvent(frame: Frame): void {
    try {
      if (frame.flags & Flags.COMP)
        throw new OapError("unsupported", "COMP on EVENT frames is not supported");
      if (!this.handler.event) throw new OapError("unsupported", "this service takes no EVENT frames");
      this.handler.event(this.incomingEvent(frame));
    } catch (err) {
      const error = toOapError(err);
      const open = this.table.get(frame.corrId);
      const live = open ? liveOf(open) : undefined;
      if (live && !live.response.ended) return this.failLive(live, error);
      this.reject(error, frame);
    }
  }

  private incomingEvent(frame: Frame): IncomingEvent {
    const start = (frame.flags & Flags.START) !== 0;
    let meta: Meta = {};
    let body = frame.payload;
    if (start) {
      const metaLen = startMetaLength(frame.payload);
      meta = startMeta(frame.payload, metaLen);
      body = frame.payload.subarray(2 + metaLen);
    }
    return {
      corrId: frame.corrId,
      appProtoId: frame.appProtoId,
      tenantId: frame.tenantId,
      start,
      end: (frame.flags & Flags.END) !== 0,
      ackRequested: (frame.flags & Flags.ACK_REQ) !== 0,
      e2e: (frame.flags & Flags.APP_E2E) !== 0,
      meta,
      body,
      connection: this.connection,
    };
  }

  /** Throws the OapError a START frame is refused with, before any service sees it. */
  private checkStart(frame: Frame): void {
    if (this.phase === "draining") {
      throw new OapError("shutting_down", "the node is shutting down; retry on another connection", {
        retryAfterMs: SHUTTING_DOWN_RETRY_MS,
      });
    }
    if (frame.capLen > this.limits.maxCapLen) {
      throw new OapError(
        "cap_too_large",
        `capability is ${frame.capLen} bytes; at most ${this.limits.maxCapLen} are accepted`,
      );
    }
  }

  private onContinuation(stream: OpenStream, frame: Frame): void {
    // The table drops continuations of streams whose reply ended, so a live stream is here.
    const live = stream.state as LiveStream;
    live.bytesIn += frame.len;
    if (((frame.flags & Flags.COMP) !== 0) !== live.compressed) {
      return this.failLive(
        live,
        new OapError("stream_violation", "COMP must be set on every frame of a request or on none"),
      );
    }
    this.handler.bodyReceived?.(stream, frame.payload.length);
    const { inflater } = live;
    if (!inflater) {
      this.charge(live.request.push(frame.payload));
    } else {
      try {
        for (const piece of inflater.push(frame.payload)) this.charge(live.request.push(piece));
        if (stream.requestEnded) this.finishInflating(inflater, stream);
      } catch (err) {
        if (stream.requestEnded) this.reportInflated(inflater, stream);
        return this.failLive(live, err as OapError);
      }
    }
    if (stream.requestEnded) live.request.endBody();
  }

  private newInflater(): BoundedInflater {
    return new BoundedInflater({
      maxOutput: this.limits.compMaxOutputBytes,
      maxRatio: this.limits.compMaxRatio,
      ratioGraceBytes: this.limits.compRatioGraceBytes,
    });
  }

  /** Inflates a START frame's COMP body; the whole request when the frame also carries END. */
  private inflateFirst(inflater: BoundedInflater, body: Uint8Array, stream: OpenStream): Uint8Array {
    try {
      const pieces = inflater.push(body);
      if (stream.requestEnded) this.finishInflating(inflater, stream);
      return pieces.length === 1 ? (pieces[0] as Uint8Array) : Buffer.concat(pieces);
    } catch (err) {
      this.reportInflated(inflater, stream);
      throw err;
    }
  }

  private finishInflating(inflater: BoundedInflater, target: StreamTarget): void {
    inflater.finish();
    this.reportInflated(inflater, target);
  }

  private reportInflated(inflater: BoundedInflater, target: StreamTarget): void {
    this.handler.inflated?.(target, inflater.compressedBytes, inflater.decompressedBytes);
  }

  /** Fails an accepted stream from the session's side (its service sees the abort). */
  private failLive(live: LiveStream, err: OapError): void {
    this.handler.rejected?.(err, live.stream);
    live.response.fail(err);
    live.request.abort(err);
  }

  /** Runs the handler; synchronous handlers (the common case) never touch a promise. */
  private run(live: LiveStream): void {
    let result: void | Promise<void>;
    try {
      result = this.handler.dispatch(live.request, live.response);
    } catch (err) {
      return this.settle(live, err);
    }
    if (result && typeof result.then === "function") {
      result.then(
        () => this.settle(live, undefined),
        (err: unknown) => this.settle(live, err),
      );
    } else {
      this.settle(live, undefined);
    }
  }

  private settle(live: LiveStream, err: unknown): void {
    const { request, response } = live;
    if (response.ended) return; // finished, or already failed (deadline, abort)
    if (err === undefined) {
      err = new OapError("internal", "the service returned without finishing its response");
    }
    if (err instanceof OapError) this.handler.rejected?.(err, live.stream);
    else this.handler.serviceError?.(err, request);
    response.fail(toOapError(err));
  }

  private deadlineFor(requested: unknown): number {
    const asked = typeof requested === "number" && requested > 0 ? requested : this.limits.defaultDeadlineMs;
    return Math.min(asked, this.limits.maxDeadlineMs);
  }

  /**
   * One coarse timer per connection instead of one timer per stream: deadlines are
   * checked every DEADLINE_SWEEP_MS while streams are open.
   */
  private sweepDeadlines(): void {
    if (this.sweeper || this.table.size === 0) return;
    this.sweeper = setInterval(() => {
      const now = Date.now();
      for (const stream of this.table.streams()) {
        const live = liveOf(stream);
        if (!live || live.deadline > now) continue;
        const err = new OapError(
          "timeout",
          `the request did not finish within its ${live.deadlineMs} ms deadline`,
        );
        this.handler.rejected?.(err, live.stream);
        live.response.fail(err);
        live.request.abort(err);
      }
      if (this.table.size === 0) this.stopSweeping();
    }, DEADLINE_SWEEP_MS);
    this.sweeper.unref();
  }

  private stopSweeping(): void {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  private charge(cost: number): void {
    this.bufferedBodyBytes += cost;
    if (this.bufferedBodyBytes > this.limits.readBufferBytes) this.gate.hold("body_buffer");
  }

  private consumed(cost: number): void {
    this.bufferedBodyBytes -= cost;
    if (this.bufferedBodyBytes <= this.limits.readBufferBytes / 2) this.gate.release("body_buffer");
  }

  private onResponseEnd(stream: OpenStream, code: number): void {
    const live = stream.state as LiveStream;
    stream.state = undefined;
    // A service may answer without reading its whole body: the rest is dropped as it arrives.
    if (stream.requestEnded) this.table.finish(stream);
    else this.table.refuse(stream);
    live.request.release();
    this.ended(live, code, live.response.failure);
  }

  /** Tears a stream down without a reply of its own (the caller sends the error frame, if any). */
  private abortLive(stream: OpenStream, error: OapError): void {
    const live = liveOf(stream);
    if (!live) return;
    stream.state = undefined;
    live.response.ended = true;
    live.request.abort(error);
    this.ended(live, error.code, error.reason);
  }

  private abortAll(error: OapError): void {
    for (const stream of this.table.streams()) this.abortLive(stream, error);
  }

  private ended(live: LiveStream, code: number, reason: Reason | undefined): void {
    const { corrId, appProtoId, tenantId } = live.stream;
    this.handler.streamEnded?.({
      corrId,
      appProtoId,
      tenantId,
      code,
      startedAt: live.startedAt,
      // Replies finished while their chunk is processed (the common, synchronous case) reuse its clock read.
      endedAt: this.inChunk ? this.now : Date.now(),
      reason,
      refused: false,
      bytesIn: live.bytesIn,
      bytesOut: live.response.bytesOut,
      peer: this.peer,
      transport: this.transport.kind,
      request: live.request,
    });
    // Not only `draining`: drain() waiters of a session that then went `closing` are resolved here too.
    if (this.phase !== "open" && this.table.size === 0) this.resolveDrain();
  }

  /** A request whose START frame was refused ends here too, so every request is counted once. */
  private refusedStart(error: OapError, frame: Frame): void {
    const { corrId, appProtoId, tenantId } = frame;
    this.handler.streamEnded?.({
      corrId,
      appProtoId,
      tenantId,
      code: error.code,
      startedAt: this.now,
      endedAt: this.now,
      reason: error.reason,
      refused: true,
      bytesIn: frame.len,
      bytesOut: 0,
      peer: this.peer,
      transport: this.transport.kind,
    });
  }

  private reject(error: OapError, target: StreamTarget, responseStarted = false): void {
    this.handler.rejected?.(error, target);
    this.writer.write(errorFrame(error, target, responseStarted));
  }

  private onClose(): void {
    this.setPhase("closed");
    this.stopSweeping();
    const gone = new OapError("internal", "connection closed");
    this.abortAll(gone);
    for (const stream of this.table.streams()) this.table.finish(stream);
    this.connection.markClosed();
    this.resolveDrain();
  }

  private resolveDrain(): void {
    const waiters = this.drainWaiters;
    // Only drain() adds waiters, and only while `draining`: without any there is nothing to do.
    if (waiters.length === 0) return;
    this.drainWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
