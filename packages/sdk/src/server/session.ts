import type { Socket } from "node:net";
import {
  DEFAULT_MAX_CAP_LEN,
  DEFAULT_MAX_FRAME,
  DEFAULT_MAX_INFLIGHT,
  decodeStartPayload,
  errorFrame,
  Flags,
  type Frame,
  FrameDecoder,
  FrameHeaderError,
  FrameWriter,
  OapError,
  type OpenStream,
  RequestStreamTable,
  toOapError,
} from "@omnigate/oap";
import { BodyQueue } from "./body-queue.js";
import { StreamResponse } from "./response.js";
import type { IncomingRequest, ResponseWriter } from "./types.js";

export interface SessionLimits {
  maxFrame: number;
  maxInflight: number;
  maxCapLen: number;
  /** Request body bytes buffered for services before the socket is paused. */
  readBufferBytes: number;
  /** Deadline for requests whose meta names none, in ms. */
  defaultDeadlineMs: number;
  /** Upper bound on any requested deadline, in ms. */
  maxDeadlineMs: number;
}

export const DEFAULT_SESSION_LIMITS: SessionLimits = {
  maxFrame: DEFAULT_MAX_FRAME,
  maxInflight: DEFAULT_MAX_INFLIGHT,
  maxCapLen: DEFAULT_MAX_CAP_LEN,
  readBufferBytes: 4 * 1024 * 1024,
  defaultDeadlineMs: 30_000,
  maxDeadlineMs: 300_000,
};

/** Where a session hands its streams and reports what happened on them. */
export interface SessionHandler {
  /** Runs one accepted request; throw or reject with an OapError to fail it. */
  dispatch(req: IncomingRequest, res: ResponseWriter): void | Promise<void>;
  /** An EVENT frame from the peer; without this hook events are refused as unsupported. */
  event?(frame: Frame): void;
  /** A stream ended (any outcome) — for metrics and logs. */
  streamEnded?(info: StreamEndInfo): void;
  /** A stream or frame was refused before reaching a service. */
  rejected?(error: OapError, frame: { corrId: bigint; appProtoId: number; tenantId: bigint }): void;
}

export interface StreamEndInfo {
  corrId: bigint;
  appProtoId: number;
  tenantId: bigint;
  code: number;
  startedAt: number;
}

interface LiveStream {
  request: IncomingRequest;
  body: BodyQueue;
  response: StreamResponse;
  abort: AbortController;
  timer: NodeJS.Timeout | undefined;
  startedAt: number;
}

/**
 * One OAP/1 connection on the side that receives requests: frame decoder → stream table
 * → handler, with deadlines, connection-level read backpressure and graceful drain.
 * The node's gateway and app backends built with `serve()` both run on it.
 */
export class ServerSession {
  private readonly limits: SessionLimits;
  private readonly decoder: FrameDecoder;
  private readonly table: RequestStreamTable;
  private readonly writer: FrameWriter;
  private readonly live = new Map<bigint, LiveStream>();
  private readonly peer: string;
  private bufferedBodyBytes = 0;
  private paused = false;
  private closed = false;
  private draining = false;
  private drainWaiters: Array<() => void> = [];

  constructor(
    private readonly socket: Socket,
    private readonly handler: SessionHandler,
    limits: Partial<SessionLimits> = {},
  ) {
    this.limits = { ...DEFAULT_SESSION_LIMITS, ...limits };
    this.decoder = new FrameDecoder({ maxFrame: this.limits.maxFrame });
    this.table = new RequestStreamTable(this.limits.maxInflight);
    this.writer = new FrameWriter(socket);
    this.peer = `${socket.remoteAddress ?? "?"}:${socket.remotePort ?? 0}`;
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("close", () => this.onClose());
    socket.on("error", () => {
      // The close handler tears everything down; errors (ECONNRESET, TLS alerts) need no more.
    });
  }

  get openStreams(): number {
    return this.table.size;
  }

  get remote(): string {
    return this.peer;
  }

  /** Refuse new streams with 503 `shutting_down`; resolves when the open ones have finished. */
  drain(): Promise<void> {
    this.draining = true;
    if (this.table.size === 0 || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** Flushes pending frames and closes the connection. */
  close(): void {
    if (this.closed) return;
    this.writer.flush();
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    try {
      this.decoder.push(chunk, (frame) => this.onFrame(frame));
    } catch (err) {
      // A header failure, or a bug of ours: either way this connection ends, the process does not.
      const fatal =
        err instanceof FrameHeaderError ? err : new OapError("internal", "internal error", { fatal: true });
      this.failConnection(fatal);
    }
  }

  /** Answer once, stop reading, close: after a header failure the byte stream cannot be trusted. */
  private failConnection(err: OapError): void {
    this.closed = true;
    const corrId = err instanceof FrameHeaderError ? err.corrId : 0n;
    const target = { corrId, appProtoId: 0, tenantId: 0n };
    this.handler.rejected?.(err, target);
    this.writer.write(errorFrame(err, target));
    this.writer.flush();
    this.socket.pause();
    this.socket.end();
    // A peer that never reads its error must not keep the socket alive.
    setTimeout(() => this.socket.destroy(), 2_000).unref();
  }

  private onFrame(frame: Frame): void {
    const action = this.table.classify(frame);
    switch (action.kind) {
      case "start":
        return this.onStart(action.stream, frame);
      case "continue":
        return this.onContinuation(action.stream, frame);
      case "event":
        if (this.handler.event && (frame.flags & Flags.COMP) === 0) return this.handler.event(frame);
        return this.reject(new OapError("unsupported", "this service takes no EVENT frames"), frame);
      case "drop":
        return;
      case "reject":
        if (action.aborts) this.abortLive(action.aborts.corrId, action.error);
        return this.reject(action.error, frame);
    }
  }

  private onStart(stream: OpenStream, frame: Frame): void {
    const refusal = this.checkStart(frame);
    if (refusal) {
      this.table.refuse(stream);
      return this.reject(refusal, frame);
    }
    let meta: IncomingRequest["meta"];
    let firstBody: Uint8Array;
    try {
      ({ meta, body: firstBody } = decodeStartPayload(frame.payload));
    } catch (err) {
      this.table.refuse(stream);
      return this.reject(toOapError(err), frame);
    }

    const abort = new AbortController();
    const body = new BodyQueue((bytes) => this.consumed(bytes));
    const response = new StreamResponse(stream, this.writer, this.limits.maxFrame, (s, code) =>
      this.onResponseEnd(s, code),
    );
    const request: IncomingRequest = {
      corrId: frame.corrId,
      appProtoId: frame.appProtoId,
      tenantId: frame.tenantId,
      meta,
      e2e: (frame.flags & Flags.APP_E2E) !== 0,
      cap: frame.cap,
      body,
      completeBody: () => body.takeIfEnded(),
      signal: abort.signal,
      peer: this.peer,
    };
    const live: LiveStream = { request, body, response, abort, timer: undefined, startedAt: Date.now() };
    this.live.set(frame.corrId, live);
    live.timer = this.armDeadline(live, meta.deadline_ms);
    this.pushBody(body, firstBody);
    if (stream.requestEnded) body.end();
    this.run(live);
  }

  private checkStart(frame: Frame): OapError | undefined {
    if (this.draining) {
      return new OapError("shutting_down", "the node is shutting down; retry on another connection", {
        retryAfterMs: 1000,
      });
    }
    if (frame.flags & Flags.COMP) {
      return new OapError("unsupported", "COMP (zstd bodies) is not supported by this node yet");
    }
    if (frame.capLen > this.limits.maxCapLen) {
      return new OapError(
        "cap_too_large",
        `capability is ${frame.capLen} bytes; at most ${this.limits.maxCapLen} are accepted`,
      );
    }
    return undefined;
  }

  private onContinuation(stream: OpenStream, frame: Frame): void {
    const live = this.live.get(stream.corrId);
    if (!live) return; // response already ended; the table frees the slot on request END
    if (frame.flags & Flags.COMP) {
      const err = new OapError("unsupported", "COMP (zstd bodies) is not supported by this node yet");
      live.response.fail(err);
      live.abort.abort(err);
      live.body.fail(err);
      return;
    }
    this.pushBody(live.body, frame.payload);
    if (stream.requestEnded) live.body.end();
  }

  private async run(live: LiveStream): Promise<void> {
    const { request, response } = live;
    try {
      await this.handler.dispatch(request, response);
      if (!response.ended) {
        response.fail(new OapError("internal", "the service returned without finishing its response"));
      }
    } catch (err) {
      response.fail(toOapError(err));
    }
  }

  private armDeadline(live: LiveStream, requested: unknown): NodeJS.Timeout {
    const asked = typeof requested === "number" && requested > 0 ? requested : this.limits.defaultDeadlineMs;
    const ms = Math.min(asked, this.limits.maxDeadlineMs);
    const timer = setTimeout(() => {
      const err = new OapError("timeout", `the request did not finish within its ${ms} ms deadline`);
      live.abort.abort(err);
      live.body.fail(err);
      live.response.fail(err);
    }, ms);
    timer.unref();
    return timer;
  }

  private pushBody(body: BodyQueue, chunk: Uint8Array): void {
    if (chunk.byteLength === 0) return;
    body.push(chunk);
    this.bufferedBodyBytes += chunk.byteLength;
    if (!this.paused && this.bufferedBodyBytes > this.limits.readBufferBytes) {
      this.paused = true;
      this.socket.pause();
    }
  }

  private consumed(bytes: number): void {
    this.bufferedBodyBytes -= bytes;
    if (this.paused && this.bufferedBodyBytes <= this.limits.readBufferBytes / 2) {
      this.paused = false;
      this.socket.resume();
    }
  }

  private onResponseEnd(stream: OpenStream, code: number): void {
    const live = this.live.get(stream.corrId);
    this.live.delete(stream.corrId);
    if (live) {
      clearTimeout(live.timer);
      // A service may answer without reading its whole body; what it left is released.
      if (!stream.requestEnded) this.table.refuse(stream);
      else this.table.finish(stream.corrId);
      live.body.release();
      this.handler.streamEnded?.({
        corrId: stream.corrId,
        appProtoId: stream.appProtoId,
        tenantId: stream.tenantId,
        code,
        startedAt: live.startedAt,
      });
    } else {
      this.table.finish(stream.corrId);
    }
    if (this.draining && this.table.size === 0) this.resolveDrain();
  }

  private abortLive(corrId: bigint, error: OapError): void {
    const live = this.live.get(corrId);
    if (!live) return;
    this.live.delete(corrId);
    clearTimeout(live.timer);
    live.response.ended = true;
    live.abort.abort(error);
    live.body.fail(error);
  }

  private reject(error: OapError, frame: { corrId: bigint; appProtoId: number; tenantId: bigint }): void {
    this.handler.rejected?.(error, frame);
    this.writer.write(errorFrame(error, frame));
  }

  private onClose(): void {
    this.closed = true;
    const gone = new OapError("internal", "connection closed");
    for (const corrId of [...this.live.keys()]) this.abortLive(corrId, gone);
    for (const stream of [...this.table.streams()]) this.table.finish(stream.corrId);
    this.resolveDrain();
  }

  private resolveDrain(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
