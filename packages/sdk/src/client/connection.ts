import {
  CorrIdMap,
  DEFAULT_MAX_FRAME,
  decodeStartPayload,
  Flags,
  type Frame,
  FrameDecoder,
  FrameHeaderError,
  FrameWriter,
  type HelloReply,
  isPadFrame,
  type Meta,
  type ShapingSettings,
  ShapingSink,
} from "@omnigate/oap/internal";
import type { Logger } from "../logger.js";
import type { BufferAccount } from "./body-queue.js";
import { MAX_TIMER_MS } from "./call-scope.js";
import type { CallStream, StreamHost } from "./call-stream.js";
import { performance, type TimerHandle, unrefTimer } from "./clock.js";
import { DeadlineTimer } from "./deadline-timer.js";
import { OapConnectionError, OapTimeoutError } from "./errors.js";
import { eventFromFrame, type OapEvent } from "./events.js";
import { Exchange } from "./exchange.js";
import { InflightSlots } from "./slots.js";
import type { ClientTransport } from "./transport.js";

export interface ConnectionHooks {
  onEvent(event: OapEvent): void;
  onClose(error: OapConnectionError): void;
  /** The node answered 503 shutting_down: new calls must not use this connection. */
  onDraining(error: OapConnectionError): void;
}

export interface ConnectionSettings {
  /** Unread response bytes, across streams, above which reading from the node is paused. */
  maxBufferedBytes: number;
  /**
   * For the unread-body rule (see `sweepUnread`): how long after its response ended a stream
   * without a deadline counts as expired. The client's defaultDeadlineMs.
   */
  unreadGraceMs: number;
}

/**
 * Where a connection is in its life (`Connection.phase`), as `ws` holds a socket's in `readyState`:
 *
 *   open ──503 shutting_down──▶ draining ──┐
 *     │                                    ├──destroy / end / transport closed──▶ closed
 *     └────────────────────────────────────┘
 *
 * - `open`: takes new streams.
 * - `draining`: the node said it is draining (503 shutting_down): no new streams, the open ones
 *   finish; when the last one does, the connection ends itself.
 * - `closed`: shut down; every stream and slot waiter failed with `closedWith`.
 *
 * The transport can be destroyed while the phase is still `open` or `draining` (its `closed`
 * event comes later): `isOpen` and the write checks look at `transport.destroyed` too.
 */
type ConnectionPhase = "open" | "draining" | "closed";

/** The legal moves between phases; setPhase() holds every change to it. */
const NEXT_PHASES: Readonly<Record<ConnectionPhase, Readonly<Partial<Record<ConnectionPhase, true>>>>> = {
  open: { draining: true, closed: true },
  draining: { closed: true },
  closed: {},
};

/**
 * One connection to the node, over whichever transport carries it (TLS, WebSocket): reads
 * frames and routes them to their streams, writes request frames, enforces max_inflight with
 * FIFO slots, fails streams whose deadline passed (one timer for all of them, see
 * DeadlineTimer) and pauses reading when readers leave too many response bytes unread.
 *
 * Unread-body rule: a stream whose response has ended but whose body is still buffered is
 * remembered with an expiry (its call's deadline; without one, unreadGraceMs after its
 * response ended). While reading is paused, expired ones are dropped, earliest expiry
 * first, until reading resumes; their readers get OapTimeoutError. So bodies nobody will
 * read cannot keep the connection paused for good.
 */
export class Connection {
  private readonly decoder = new FrameDecoder({ maxFrame: DEFAULT_MAX_FRAME });
  private readonly writer: FrameWriter;
  /**
   * Open streams by corr_id, as a number: corr_ids are counted from 1 and never near 2^53. Not
   * a Map: with bigint keys it costs over half a microsecond more per request, and a Map that
   * churns keeps dead streams out of minor GCs (see CorrIdMap).
   */
  private readonly streams = new CorrIdMap<CallStream>();
  private nextCorrId = 1;
  private slots: InflightSlots | undefined;
  private helloReply: HelloReply | undefined;
  private phase: ConnectionPhase = "open";
  /** The error streams and waiters failed with: set on entering `closed` (the phase's data). */
  private closedWith: OapConnectionError | undefined;
  /**
   * Why the connection is going away, learnt before the transport closed. Not a phase: it is
   * gathered while `open` or `draining` (a node's error frame, the transport's `ending`) and
   * only read when the close comes.
   */
  private cause: { message: string; error?: unknown } | undefined;
  private buffered = 0;
  /**
   * Reading from the node is paused for unread response bytes. Flow control, not a phase: it
   * comes and goes while `open` or `draining`, independently of them.
   */
  private paused = false;
  /** Streams whose response ended with body bytes unread, and when those expire (performance.now()). */
  private readonly unread = new Map<Exchange, number>();
  private sweepTimer: TimerHandle | undefined;
  /** Resolved when the transport has closed. */
  private readonly transportClosed: Promise<void>;
  /**
   * The error for calls refused because the node is draining (503 shutting_down): set on
   * entering `draining` and kept in `closed`, so `isDraining` stays true after a drained close.
   */
  private drainingWith: OapConnectionError | undefined;
  private readonly host: StreamHost;
  private readonly deadlines = new DeadlineTimer((now) => this.expireStreams(now));
  private readonly maxBufferedBytes: number;
  private readonly unreadGraceMs: number;

  constructor(
    private readonly transport: ClientTransport,
    private readonly hooks: ConnectionHooks,
    private readonly logger: Logger,
    settings: ConnectionSettings,
  ) {
    this.maxBufferedBytes = settings.maxBufferedBytes;
    this.unreadGraceMs = settings.unreadGraceMs;
    this.writer = new FrameWriter(transport.sink);
    const account: BufferAccount = {
      add: (bytes) => this.addBuffered(bytes),
      remove: (bytes) => this.removeBuffered(bytes),
    };
    const connection = this;
    this.host = {
      get maxFrame() {
        return connection.maxFrame;
      },
      get boundCap() {
        return connection.boundCap;
      },
      account,
      send: (frame) => {
        this.checkWritable();
        return this.writer.write(frame);
      },
      sendStart: (frame) => {
        this.checkWritable();
        return this.writer.writeStart(frame);
      },
      drained: () => this.writer.drained(),
      finish: (stream) => this.finish(stream),
      draining: () => this.startDraining(),
    };
    let closed!: () => void;
    this.transportClosed = new Promise((resolve) => {
      closed = resolve;
    });
    transport.attach({
      data: this.onData,
      invalid: (error) => this.failRead(error),
      ending: (message, error) => {
        this.cause ??= { message, error };
      },
      closed: () => {
        closed();
        this.onClose();
      },
    });
  }

  get hello(): HelloReply {
    if (!this.helloReply) throw new Error("the connection has not finished its HELLO");
    return this.helloReply;
  }

  get isOpen(): boolean {
    return this.phase !== "closed" && !this.transport.destroyed;
  }

  /** The node is draining this connection: it finishes the open streams and takes no new ones. */
  get isDraining(): boolean {
    return this.drainingWith !== undefined;
  }

  /** Streams tracked on this connection (including ones their callers gave up on). */
  get openStreams(): number {
    return this.streams.size;
  }

  /** The error pending calls got when the connection closed. */
  get closeError(): OapConnectionError | undefined {
    return this.closedWith;
  }

  /** Completes the handshake (with a checked reply): slots are sized by the node's max_inflight from here on. */
  /** The capability the node bound to this connection in its HELLO reply (cap.bound). */
  boundCap: Uint8Array | undefined;

  setHello(hello: HelloReply): void {
    this.helloReply = hello;
    this.slots = new InflightSlots(hello.max_inflight);
  }

  /** Whether this connection's sends can be shaped: frames travel on a byte stream (TLS), not as WebSocket messages. */
  get canShape(): boolean {
    return this.transport.byteStream !== undefined;
  }

  /** Shapes what the client sends from now on (specs/oap-1.md §10.1), once the node agreed in HELLO. */
  applyShaping(settings: ShapingSettings): void {
    const stream = this.transport.byteStream;
    if (stream && this.isOpen) this.writer.useSink(new ShapingSink(stream, settings));
  }

  /** The node's max_frame (the default until the HELLO is done). */
  get maxFrame(): number {
    return this.helloReply?.max_frame ?? DEFAULT_MAX_FRAME;
  }

  /**
   * Takes an inflight slot if one is free now and nobody is queued for one: the request fast
   * path, which then opens its stream without awaiting anything.
   */
  tryAcquireSlot(): boolean {
    if (this.phase !== "open" || this.transport.destroyed) return false;
    return this.slots?.tryAcquire() ?? false;
  }

  /**
   * Waits for an inflight slot (callers queue in FIFO order). `signal` bounds the wait; its
   * reason is what the wait rejects with. On a draining connection it rejects with the
   * draining error, before anything was sent: the caller may open its stream elsewhere.
   */
  async acquireSlot(signal?: AbortSignal): Promise<void> {
    const refused = this.refusal();
    if (refused) throw refused;
    const slots = this.slots;
    if (!slots) throw new Error("the connection has not finished its HELLO");
    await slots.acquire(signal);
    const late = this.refusal();
    if (late) {
      // A closed connection failed its slots already; a draining one gives this one back.
      if (this.phase === "draining") slots.release();
      throw late;
    }
  }

  /** The error a new stream gets here: `closedWith` once closed, `drainingWith` while draining. */
  private refusal(): OapConnectionError | undefined {
    if (this.phase === "closed") return this.closedWith;
    if (this.phase === "draining") return this.drainingWith;
    return undefined;
  }

  /**
   * Opens `stream` under a fresh corr_id: its RESP frames go to it, its deadline is watched,
   * and the connection's end fails it. A stream that holds a slot got it from
   * tryAcquireSlot/acquireSlot; the HELLO holds none (the limit is not known yet).
   */
  open(stream: CallStream): void {
    if (this.phase === "closed") throw this.closedWith;
    const corrId = this.nextCorrId++;
    this.streams.set(corrId, stream);
    stream.attach(this.host, BigInt(corrId));
    this.deadlines.watch(stream.deadlineAt);
  }

  /** Tears the connection down; every tracked stream and waiter fails with `error`. */
  destroy(error: OapConnectionError): void {
    if (this.phase === "closed") return;
    this.cause = { message: error.message, error };
    this.shutdown(error, false);
    this.transport.destroy();
  }

  /**
   * Ends the connection politely (TLS close_notify, WebSocket close), destroying it if the
   * node does not close in time. Its callers gave up (the client is closing): open streams
   * fail with `error` and drop what they buffered.
   */
  async end(error: OapConnectionError, graceMs = 1000): Promise<void> {
    if (this.phase !== "closed") this.shutdown(error, true);
    if (this.transport.destroyed) return;
    const timer = setTimeout(() => this.transport.destroy(), graceMs);
    unrefTimer(timer);
    this.writer.finish();
    this.transport.end();
    await this.transportClosed;
    clearTimeout(timer);
  }

  /** Frames can only go out while the connection is up. */
  private checkWritable(): void {
    if (this.phase === "closed") throw this.closedWith;
    if (this.transport.destroyed) {
      throw new OapConnectionError(this.cause?.message ?? "the connection to the node is closed");
    }
  }

  private finish(stream: CallStream): void {
    const key = Number(stream.corrId);
    if (this.streams.get(key) !== stream) return;
    this.streams.delete(key);
    if (stream.holdsSlot) this.slots?.release();
    if (stream instanceof Exchange && !stream.body.isSettled) {
      const expiry = Number.isFinite(stream.deadlineAt)
        ? stream.deadlineAt
        : performance.now() + this.unreadGraceMs;
      this.unread.set(stream, expiry);
      stream.body.onSettled(() => this.unread.delete(stream));
      if (this.paused) this.scheduleSweep();
    }
    if (this.phase === "draining" && this.streams.size === 0 && this.drainingWith) {
      // The node finished what it had: close politely instead of waiting for it to.
      void this.end(this.drainingWith);
    }
  }

  /** DeadlineTimer's sweep: fails the open streams whose deadline passed; returns the earliest left. */
  private expireStreams(now: number): number {
    let earliest = Number.POSITIVE_INFINITY;
    for (const stream of this.streams.valuesArray()) {
      // A failed stream waits for the node's END; its deadline no longer matters.
      if (stream.hasFailed) continue;
      if (stream.deadlineAt <= now) stream.expire();
      else if (stream.deadlineAt < earliest) earliest = stream.deadlineAt;
    }
    return earliest;
  }

  private startDraining(): void {
    if (this.phase !== "open") return;
    const error = new OapConnectionError(
      "the node is shutting down this connection (503 shutting_down); new calls use a new connection",
      { reason: "shutting_down", retryAfterMs: 0 },
    );
    this.drainingWith = error;
    this.setPhase("draining");
    this.logger.debug({}, "the node is draining the connection; new calls go to a new one");
    // Callers queued for a slot here sent nothing yet: they go to a new connection.
    this.slots?.fail(error);
    this.hooks.onDraining(error);
  }

  private readonly onData = (chunk: Uint8Array): void => {
    try {
      this.decoder.push(chunk, (frame) => this.route(frame));
    } catch (error) {
      // Never let a bad byte stream throw out of a transport event: end this connection only.
      this.failRead(error);
    }
  };

  private failRead(error: unknown): void {
    const message =
      error instanceof FrameHeaderError
        ? `the node sent an invalid frame (${error.reason}: ${error.message})`
        : `reading from the node failed: ${error instanceof Error ? error.message : String(error)}`;
    this.destroy(new OapConnectionError(message, { cause: error }));
  }

  private route(frame: Frame): void {
    if (frame.flags & Flags.EVENT) {
      // A service's push names the stream it belongs to by its corr_id (a subscription).
      if (frame.appProtoId !== 0) this.streams.get(streamKeyOf(frame))?.onEvent(frame);
      // PAD frames (§10.1) are filler: always dropped, whether or not this client asked for shaping.
      else if (!isPadFrame(frame)) this.hooks.onEvent(eventFromFrame(frame));
      return;
    }
    if (!(frame.flags & Flags.RESP)) {
      this.logger.debug({ corrId: frame.corrId.toString() }, "ignoring a request frame sent by the node");
      return;
    }
    const stream = this.streams.get(streamKeyOf(frame));
    if (stream) {
      stream.onFrame(frame);
      return;
    }
    if (frame.code >= 400) {
      // An error on no stream of ours is the node explaining why it is about to close the connection.
      const meta = safeMeta(frame.payload);
      const reason = typeof meta.reason === "string" ? meta.reason : String(frame.code);
      const message = typeof meta.message === "string" ? meta.message : "";
      this.cause = { message: `the node closed the connection (${reason}${message ? `: ${message}` : ""})` };
    }
  }

  private setPhase(next: ConnectionPhase): void {
    checkPhaseChange(this.phase, next);
    this.phase = next;
  }

  private addBuffered(bytes: number): void {
    this.buffered += bytes;
    if (!this.paused && this.buffered > this.maxBufferedBytes) {
      this.paused = true;
      this.transport.pause();
      this.scheduleSweep();
    }
  }

  private removeBuffered(bytes: number): void {
    this.buffered -= bytes;
    if (this.paused && this.buffered <= this.maxBufferedBytes / 2) {
      this.paused = false;
      clearTimeout(this.sweepTimer);
      this.sweepTimer = undefined;
      if (this.phase !== "closed") this.transport.resume();
    }
  }

  /** While paused: wakes up at the earliest expiry among finished streams with unread bodies. */
  private scheduleSweep(): void {
    clearTimeout(this.sweepTimer);
    this.sweepTimer = undefined;
    if (!this.paused || this.phase === "closed" || this.unread.size === 0) return;
    let earliest = Number.POSITIVE_INFINITY;
    for (const expiry of this.unread.values()) earliest = Math.min(earliest, expiry);
    const delay = Math.min(Math.max(0, Math.ceil(earliest - performance.now())), MAX_TIMER_MS);
    this.sweepTimer = setTimeout(() => {
      this.sweepTimer = undefined;
      this.sweepUnread();
    }, delay);
    unrefTimer(this.sweepTimer);
  }

  /**
   * The unread-body rule: while reading stays paused, drop the unread bodies of finished
   * streams whose expiry has passed, earliest first, until it resumes.
   */
  private sweepUnread(): void {
    const now = performance.now();
    const expired = [...this.unread].filter(([, expiry]) => expiry <= now).sort((a, b) => a[1] - b[1]);
    for (const [exchange] of expired) {
      if (!this.paused) break;
      const bytes = exchange.body.bufferedBytes;
      this.unread.delete(exchange);
      this.logger.debug(
        { corrId: exchange.corrId.toString(), bytes },
        "dropping an unread response body: its deadline passed while the connection was paused",
      );
      exchange.dropUnread(
        new OapTimeoutError(
          `the response body was not read before the call's deadline and the connection had stopped reading; its ${bytes} unread bytes were dropped`,
          exchange.corrId,
        ),
      );
    }
    this.scheduleSweep();
  }

  private onClose(): void {
    if (this.phase === "closed") return;
    this.shutdown(
      new OapConnectionError(this.cause?.message ?? "the connection to the node was lost", {
        cause: this.cause?.error,
      }),
      false,
    );
  }

  /** `abandoned`: the callers gave up on their streams, so buffered bodies are dropped too. */
  private shutdown(error: OapConnectionError, abandoned: boolean): void {
    this.closedWith = error;
    this.setPhase("closed");
    this.deadlines.stop();
    clearTimeout(this.sweepTimer);
    this.sweepTimer = undefined;
    this.unread.clear();
    const streams = this.streams.valuesArray();
    this.streams.clear();
    for (const stream of streams) {
      if (abandoned) stream.abandon(error);
      stream.connectionLost(error);
    }
    this.slots?.fail(error);
    this.hooks.onClose(error);
  }
}

/** Every change of phase goes through here; an illegal one is a bug in Connection. */
function checkPhaseChange(from: ConnectionPhase, to: ConnectionPhase): void {
  if (NEXT_PHASES[from][to] !== true) throw new Error(`Connection: illegal phase change ${from} -> ${to}`);
}

function safeMeta(payload: Uint8Array): Meta {
  try {
    return decodeStartPayload(payload).meta;
  } catch {
    return {};
  }
}

/**
 * The key of the stream a frame from the node belongs to: the decoder's number for its corr_id
 * (no BigInt conversion), −1 for an id from 2^53 up, which no stream of ours has.
 */
function streamKeyOf(frame: Frame): number {
  return frame.corrKey ?? Number(frame.corrId);
}
