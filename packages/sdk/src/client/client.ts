import { Flags, type HelloReply } from "@omnigate/oap";
import type { Logger } from "../logger.js";
import { ClientSpan } from "../tracing/client-span.js";
import { tracingEnabled } from "../tracing/otel.js";
import { checkAppProtoId, checkFitsFrame } from "./call-checks.js";
import type { CallOptions, RequestOptions, StreamOptions } from "./call-options.js";
import { CallScope } from "./call-scope.js";
import { type CallSpec, encodeCallMeta } from "./call-spec.js";
import { CapRefresher, isRefreshableCapRefusal } from "./capability.js";
import type { Connection } from "./connection.js";
import { type OapClientError, OapConnectionError } from "./errors.js";
import { type ClientEventName, type ClientEvents, Listeners } from "./events.js";
import { Exchange } from "./exchange.js";
import { MailboxClient } from "./mailbox.js";
import { type LinkSettings, NodeLink } from "./node-link.js";
import { checkTenant, positive, type ResolvedClientOptions } from "./options.js";
import type { ClientPlatform, Compressor } from "./platform.js";
import { retryDelay } from "./retry.js";
import { StorageClient } from "./storage.js";
import { OapStream, toBytes } from "./stream.js";
import { type OapResponse, UnaryCall } from "./unary-call.js";

export type { OapResponse } from "./unary-call.js";

const EMPTY = new Uint8Array(0);

/** How often one call moves on from a connection that started draining before its stream went out. */
const MAX_DRAINING_REOPENS = 3;

/** A client of one Omnigate node, or of a cluster's nodes in turn. Create it with `connect()`. */
export class OapClient {
  private readonly listeners: Listeners;
  private readonly link: NodeLink;
  private readonly lifetime = new AbortController();
  private readonly logger: Logger;
  private readonly capRefresher: CapRefresher | undefined;
  private mailboxFacade: MailboxClient | undefined;
  private readonly compress: Compressor | undefined;
  /** Content-addressed storage on the node (app id 0x0301): put, get, getBytes, has. */
  readonly storage: StorageClient;

  /** @internal Use `connect()`. */
  constructor(
    linkSettings: LinkSettings,
    private readonly options: ResolvedClientOptions,
    platform: ClientPlatform,
  ) {
    this.logger = linkSettings.logger;
    this.compress = platform.compress;
    this.storage = new StorageClient(this, platform.createBlake3);
    // Every call waiting outside a connection listens for close(); that is not a leak.
    platform.allowManyListeners(this.lifetime.signal);
    this.listeners = new Listeners((error, name) =>
      this.logger.warn({ err: error, event: name }, "an OapClient event listener threw"),
    );
    this.link = new NodeLink(linkSettings, this.listeners);
    this.capRefresher = options.capProvider ? new CapRefresher(options.capProvider) : undefined;
  }

  /** The node's HELLO reply on the current (or last) connection. */
  get hello(): HelloReply {
    const hello = this.link.hello;
    if (!hello) throw new Error("the client has not connected yet");
    return hello;
  }

  /** The mailbox: send, recv, ack, nack, extend, delete, subscribe, DLQ admin. */
  get mailbox(): MailboxClient {
    this.mailboxFacade ??= new MailboxClient(this);
    return this.mailboxFacade;
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.lifetime.signal.aborted;
  }

  /** Adds a listener for `connect`, `disconnect` or control `event`s (see ClientEvents). */
  on<K extends ClientEventName>(name: K, listener: ClientEvents[K]): this {
    this.listeners.on(name, listener);
    return this;
  }

  /** Removes a listener added with `on()`. */
  off<K extends ClientEventName>(name: K, listener: ClientEvents[K]): this {
    this.listeners.off(name, listener);
    return this;
  }

  /**
   * Sends one request and collects the whole response. Rejects with OapRequestError (code ≥ 400),
   * OapTimeoutError, OapConnectionError or OapAbortError. With an idempotency key, connection
   * loss, 429 and 503 are retried with full-jitter backoff inside the deadline.
   */
  request(appProtoId: number, options: RequestOptions = {}): Promise<OapResponse> {
    // One flag check when no tracer provider is registered (the benchmarked path).
    if (tracingEnabled()) return this.tracedRequest(appProtoId, options);
    return this.startRequest(appProtoId, options, undefined);
  }

  /** request() under a CLIENT span whose trace context travels in the START frame's meta. */
  private tracedRequest(appProtoId: number, options: RequestOptions): Promise<OapResponse> {
    const span = new ClientSpan(
      "oap.request",
      appProtoId,
      options.tenant ?? this.options.tenant,
      options.meta,
      false,
    );
    const call = this.startRequest(appProtoId, { ...options, meta: span.meta }, span);
    call.then(
      (response) => span.finish(undefined, response.code),
      (error: unknown) => span.fail(error),
    );
    return call;
  }

  private startRequest(
    appProtoId: number,
    options: RequestOptions,
    span: ClientSpan | undefined,
  ): Promise<OapResponse> {
    // Not async: on the fast path the request is written before this returns, and the caller
    // awaits the call's own promise, the only one a small request makes.
    try {
      checkAppProtoId(appProtoId);
      const maxResponseBytes = options.maxResponseBytes ?? this.options.maxResponseBytes;
      positive("maxResponseBytes", maxResponseBytes);
      const body = options.body === undefined ? EMPTY : toBytes(options.body);
      const scope = this.scope(options);
      if (this.capRefresher && options.cap === undefined) {
        return this.refreshingCap(() =>
          this.sendRequest(appProtoId, options, body, maxResponseBytes, scope, span),
        );
      }
      return this.sendRequest(appProtoId, options, body, maxResponseBytes, scope, span);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Opens a stream: `write()`/`end()` the request body, await `response`, then
   * `for await` the response body. Streams are never retried.
   */
  stream(appProtoId: number, options: StreamOptions = {}): OapStream {
    checkAppProtoId(appProtoId);
    const scope = this.scope(options);
    const span = tracingEnabled()
      ? new ClientSpan("oap.stream", appProtoId, options.tenant ?? this.options.tenant, options.meta, true)
      : undefined;
    const opened = (async () => {
      const spec = this.spec(appProtoId, span ? { ...options, meta: span.meta } : options, undefined);
      if (span) spec.trace = span;
      const connection = await this.slot(spec, scope);
      const exchange = new Exchange(spec, encodeCallMeta(spec, scope), scope, true);
      exchange.onPushedEvent = options.onEvent;
      connection.open(exchange);
      return exchange;
    })();
    // The span ends with the stream (CallStream), or here when it never opened.
    if (span) opened.then(undefined, (error: unknown) => span.fail(error));
    return new OapStream(opened);
  }

  /** Closes the connection for good; pending and later calls reject with OapConnectionError "client_closed". */
  async close(): Promise<void> {
    if (this.closed) return;
    const error = new OapConnectionError("the client was closed", {
      reason: "client_closed",
      retryable: false,
    });
    this.lifetime.abort(error);
    await this.link.close(error);
  }

  /** @internal Opens the first connection (connect() waits for it). */
  async start(): Promise<void> {
    await this.link.connection(new CallScope(Number.POSITIVE_INFINITY, undefined, this.lifetime.signal));
  }

  /**
   * Sends, and when the node refuses the client's capability as expired, revoked or unknown,
   * gets a new one from capProvider and sends once more. The node checks capabilities before
   * any work is done, so resending is safe without an idempotency key. `send` reads the
   * client's cap each time it is called, so the second send carries the new one.
   */
  private async refreshingCap(send: () => Promise<OapResponse>): Promise<OapResponse> {
    const sentWith = this.options.cap;
    try {
      return await send();
    } catch (error) {
      if (!this.capRefresher || !isRefreshableCapRefusal(error)) throw error;
      // Calls refused together share one refresh; a call sent before another call's refresh
      // finished uses the new cap rather than refreshing again.
      if (this.options.cap === sentWith) this.options.cap = await this.capRefresher.refresh();
      this.logger.debug({ reason: (error as OapClientError).reason }, "capability refreshed; sending again");
      return send();
    }
  }

  /** One request with the client's current capability: retried when it has an idempotency key. */
  private sendRequest(
    appProtoId: number,
    options: RequestOptions,
    body: Uint8Array,
    maxResponseBytes: number,
    scope: CallScope,
    span: ClientSpan | undefined,
  ): Promise<OapResponse> {
    const spec = this.spec(appProtoId, options, options.idempotencyKey);
    spec.compress = options.compress;
    if (span) spec.trace = span;
    if (options.idempotencyKey === undefined) return this.attempt(spec, body, maxResponseBytes, scope);
    return this.retrying(spec, body, maxResponseBytes, scope);
  }

  private async retrying(
    spec: CallSpec,
    body: Uint8Array,
    maxResponseBytes: number,
    scope: CallScope,
  ): Promise<OapResponse> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.attempt(spec, body, maxResponseBytes, scope);
      } catch (error) {
        const delay = retryDelay(error, this.options.retry, attempt, scope.remainingMs());
        if (delay === undefined) throw error;
        this.logger.debug(
          { attempt: attempt + 1, delayMs: Math.round(delay), reason: (error as OapClientError).reason },
          "retrying an idempotent request",
        );
        await scope.sleep(delay);
      }
    }
  }

  /**
   * One attempt of a request. The fast path: the connection is up and a slot is free, so the
   * request is encoded and written before anything is awaited. Otherwise it waits for them.
   *
   * The call's budget needs no check here: every wait checks it (CallScope.wait), the stream
   * fails at once if the caller's signal already fired (nothing is sent then), the connection
   * fails streams whose deadline passed, and a closed client has no ready connection.
   */
  private attempt(
    spec: CallSpec,
    body: Uint8Array,
    maxResponseBytes: number,
    scope: CallScope,
  ): Promise<OapResponse> {
    const connection = this.link.ready;
    if (connection) {
      const meta = encodeCallMeta(spec, scope);
      checkFitsFrame(meta, spec.cap, connection.maxFrame);
      if (connection.tryAcquireSlot()) {
        return this.send(connection, spec, meta, body, maxResponseBytes, scope);
      }
    }
    return this.attemptQueued(spec, body, maxResponseBytes, scope);
  }

  private async attemptQueued(
    spec: CallSpec,
    body: Uint8Array,
    maxResponseBytes: number,
    scope: CallScope,
  ): Promise<OapResponse> {
    const connection = await this.slot(spec, scope);
    // Encoded only now, so a deadline_ms in meta counts the time spent queued.
    return this.send(connection, spec, encodeCallMeta(spec, scope), body, maxResponseBytes, scope);
  }

  private send(
    connection: Connection,
    spec: CallSpec,
    meta: Uint8Array | undefined,
    body: Uint8Array,
    maxResponseBytes: number,
    scope: CallScope,
  ): Promise<OapResponse> {
    let sent = body;
    let target = spec;
    const packed = this.compressed(connection, spec, body);
    if (packed) {
      sent = packed;
      target = { ...spec, compressed: true };
    }
    const call = new UnaryCall(target, meta, scope, maxResponseBytes);
    connection.open(call);
    call.send(sent);
    return call.response;
  }

  /**
   * A connection with an inflight slot held for the call: waits for the connection, then for
   * a slot (FIFO), within the call's budget. A START whose meta and capability cannot fit the
   * node's max_frame is refused before a slot is taken. A connection the node starts draining
   * while the call waits for a slot is left for a new one: the request never went out, so this
   * is safe without an idempotency key.
   */
  private async slot(spec: CallSpec, scope: CallScope): Promise<Connection> {
    for (let tries = 1; ; tries++) {
      const connection = await this.link.connection(scope);
      checkFitsFrame(encodeCallMeta(spec, scope), spec.cap, connection.maxFrame);
      if (connection.tryAcquireSlot()) return connection;
      try {
        await scope.wait((signal) => connection.acquireSlot(signal));
        return connection;
      } catch (error) {
        if (!connection.isDraining || scope.error || tries >= MAX_DRAINING_REOPENS) throw error;
      }
    }
  }

  /**
   * The body zstd-compressed for COMP on this connection, or undefined to send it plain. In
   * "auto" mode a body the node would refuse once inflated (over its output cap, or a ratio
   * above its ratio cap: HELLO limits.comp) goes plain instead.
   */
  private compressed(connection: Connection, spec: CallSpec, body: Uint8Array): Uint8Array | undefined {
    if (spec.compressed) return undefined; // already zstd: sent as it is
    const mode = spec.compress ?? "auto";
    const compress = this.compress;
    if (mode !== "auto") {
      if (!mode || body.length === 0) return undefined;
      if (!compress) {
        throw new TypeError("compress: true needs zstd, which the browser build of the SDK does not have");
      }
      return compress(body);
    }
    if (!compress) return undefined; // no zstd here (a browser): "auto" sends bodies plain
    const hello = connection.hello;
    if (body.length < this.options.compressThresholdBytes || (hello.flags_supported & Flags.COMP) === 0) {
      return undefined;
    }
    const caps = hello.limits?.comp;
    if (caps && body.length > caps.max_output_bytes) return undefined;
    // Level 1: "auto" trades a little ratio for speed on every large body.
    const packed = compress(body, 1);
    if (caps && body.length > caps.ratio_grace_bytes && body.length > caps.max_ratio * packed.length) {
      return undefined;
    }
    // Worth it only when it saves at least an eighth: the node must inflate what it gets.
    return packed.length <= body.length - (body.length >>> 3) ? packed : undefined;
  }

  /** What the call sends, from its options and the client's defaults. */
  private spec(appProtoId: number, options: CallOptions, idempotencyKey: string | undefined): CallSpec {
    // The client's own tenant was checked when it was created.
    if (options.tenant !== undefined) checkTenant(options.tenant);
    return {
      appProtoId,
      tenantId: options.tenant ?? this.options.tenant,
      cap: options.cap ?? this.options.cap,
      e2e: options.e2e ?? false,
      compressed: options.compressed ?? false,
      meta: options.meta,
      sendsDeadline: options.deadlineMs !== undefined,
      idempotencyKey,
    };
  }

  private scope(options: CallOptions): CallScope {
    const deadlineMs = options.deadlineMs ?? this.options.defaultDeadlineMs;
    return new CallScope(deadlineMs, options.signal, this.lifetime.signal);
  }
}
