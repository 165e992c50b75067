import { setMaxListeners } from "node:events";
import type { HelloReply, Meta } from "@omnigate/oap";
import { asClientError, checkAppProtoId, checkFitsFrame } from "./call-checks.js";
import { CallScope } from "./call-scope.js";
import type { ExchangeParams } from "./connection.js";
import type { DialSettings } from "./dial.js";
import { OapClientError, OapConnectionError } from "./errors.js";
import { type ClientEventName, type ClientEvents, Listeners } from "./events.js";
import type { Exchange, ResponseHead } from "./exchange.js";
import type { Logger } from "./logger.js";
import { NodeLink } from "./node-link.js";
import { checkTenant, positive, type ResolvedClientOptions } from "./options.js";
import { retryDelay } from "./retry.js";
import { OapStream, toBytes } from "./stream.js";

/** Options of one streamed call. */
export interface StreamOptions {
  meta?: Meta;
  /** Tenant the stream acts for (default: the client's). */
  tenant?: bigint;
  /** Budget of the whole call in ms (default: the client's defaultDeadlineMs; Infinity for none). */
  deadlineMs?: number;
  signal?: AbortSignal;
  /** The body is end-to-end encrypted by the app (APP_E2E): the node forwards it untouched. */
  e2e?: boolean;
  /** Capability token for this call (default: the client's). */
  cap?: Uint8Array;
}

/** Options of one request/response call. */
export interface RequestOptions extends StreamOptions {
  body?: Uint8Array | string;
  /** Marks the request safe to send again: enables retries on connection loss, 429 and 503. */
  idempotencyKey?: string;
  /**
   * Largest response body to collect (default: the client's maxResponseBytes, 64 MiB). A larger
   * one fails the call with 413 payload_too_large; the rest of it is discarded as it arrives.
   */
  maxResponseBytes?: number;
}

export interface OapResponse extends ResponseHead {
  /** Every response body chunk, concatenated. */
  body: Buffer;
}

/** How often one call moves on from a connection that started draining before its stream went out. */
const MAX_DRAINING_REOPENS = 3;

/** A client of one Omnigate node. Create it with `connect()`. */
export class OapClient {
  private readonly listeners: Listeners;
  private readonly link: NodeLink;
  private readonly lifetime = new AbortController();
  private readonly logger: Logger;

  /** @internal Use `connect()`. */
  constructor(
    dialSettings: Omit<DialSettings, "hooks">,
    private readonly options: ResolvedClientOptions,
  ) {
    this.logger = dialSettings.logger;
    // Every pending call listens for close(); that is not a leak.
    setMaxListeners(0, this.lifetime.signal);
    this.listeners = new Listeners((error, name) =>
      this.logger.warn({ err: error, event: name }, "an OapClient event listener threw"),
    );
    this.link = new NodeLink(dialSettings, this.listeners);
  }

  /** The node's HELLO reply on the current (or last) connection. */
  get hello(): HelloReply {
    const hello = this.link.hello;
    if (!hello) throw new Error("the client has not connected yet");
    return hello;
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.lifetime.signal.aborted;
  }

  on<K extends ClientEventName>(name: K, listener: ClientEvents[K]): this {
    this.listeners.on(name, listener);
    return this;
  }

  off<K extends ClientEventName>(name: K, listener: ClientEvents[K]): this {
    this.listeners.off(name, listener);
    return this;
  }

  /**
   * Sends one request and collects the whole response. Rejects with OapRequestError (code ≥ 400),
   * OapTimeoutError, OapConnectionError or OapAbortError. With an idempotency key, connection
   * loss, 429 and 503 are retried with full-jitter backoff inside the deadline.
   */
  async request(appProtoId: number, options: RequestOptions = {}): Promise<OapResponse> {
    checkAppProtoId(appProtoId);
    const maxResponseBytes = options.maxResponseBytes ?? this.options.maxResponseBytes;
    positive("maxResponseBytes", maxResponseBytes);
    const body = options.body === undefined ? new Uint8Array(0) : toBytes(options.body);
    const scope = this.scope(options);
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          return await this.attempt(appProtoId, options, body, maxResponseBytes, scope);
        } catch (error) {
          if (options.idempotencyKey === undefined) throw error;
          const delay = retryDelay(error, this.options.retry, attempt, scope.remainingMs());
          if (delay === undefined) throw error;
          this.logger.debug(
            { attempt: attempt + 1, delayMs: Math.round(delay), reason: (error as OapClientError).reason },
            "retrying an idempotent request",
          );
          await scope.sleep(delay);
        }
      }
    } finally {
      scope.dispose();
    }
  }

  /**
   * Opens a stream: `write()`/`end()` the request body, await `response`, then
   * `for await` the response body. Streams are never retried.
   */
  stream(appProtoId: number, options: StreamOptions = {}): OapStream {
    checkAppProtoId(appProtoId);
    const scope = this.scope(options);
    const opened = this.open(appProtoId, options, undefined, scope).then((exchange) => {
      scope.onEnd((error) => exchange.abandon(error));
      return exchange;
    });
    return new OapStream(opened, scope, options.signal);
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
    const scope = new CallScope(Number.POSITIVE_INFINITY, undefined, this.lifetime.signal);
    try {
      await this.link.connection(scope);
    } finally {
      scope.dispose();
    }
  }

  private async attempt(
    appProtoId: number,
    options: RequestOptions,
    body: Uint8Array,
    maxResponseBytes: number,
    scope: CallScope,
  ): Promise<OapResponse> {
    const exchange = await this.open(appProtoId, options, options.idempotencyKey, scope);
    const unwatch = scope.onEnd((error) => exchange.abandon(error));
    try {
      exchange.send(body, true).catch((error: unknown) => exchange.abandon(asClientError(error)));
      const head = await exchange.head;
      const chunks: Buffer[] = [];
      let received = 0;
      // Leaving this loop early (the bound below, or a failure) discards the rest of the body.
      for await (const chunk of exchange.body) {
        received += chunk.byteLength;
        if (received > maxResponseBytes) {
          throw new OapClientError(
            `the response body exceeds maxResponseBytes=${maxResponseBytes}; raise the bound or read it with stream()`,
            { code: 413, reason: "payload_too_large", corrId: exchange.corrId, retryable: false },
          );
        }
        chunks.push(chunk);
      }
      return {
        code: head.code,
        meta: head.meta,
        body: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks),
      };
    } finally {
      unwatch();
    }
  }

  /**
   * Connection, then an inflight slot (FIFO, bounded by the call's scope), then the stream. A
   * connection the node starts draining before the stream was sent is left for a new one: the
   * request never went out, so this is safe without an idempotency key.
   */
  private async open(
    appProtoId: number,
    options: StreamOptions,
    idempotencyKey: string | undefined,
    scope: CallScope,
  ): Promise<Exchange> {
    const tenantId = options.tenant ?? this.options.tenant;
    checkTenant(tenantId);
    const cap = options.cap ?? this.options.cap;
    const params = (): ExchangeParams => {
      const meta: Meta = { ...options.meta };
      const remaining = scope.remainingMs();
      if (Number.isFinite(remaining)) meta.deadline_ms = Math.max(1, Math.floor(remaining));
      if (idempotencyKey !== undefined) meta.idempotency_key = idempotencyKey;
      return { appProtoId, tenantId, meta, cap, e2e: options.e2e ?? false, deadlineAt: scope.deadlineAt };
    };
    for (let tries = 1; ; tries++) {
      const connection = await this.link.connection(scope);
      checkFitsFrame(params(), connection.hello.max_frame);
      try {
        return await connection.openExchange(params, scope.signal);
      } catch (error) {
        if (!connection.isDraining || scope.error || tries >= MAX_DRAINING_REOPENS) throw error;
      }
    }
  }

  private scope(options: StreamOptions): CallScope {
    const deadlineMs = options.deadlineMs ?? this.options.defaultDeadlineMs;
    return new CallScope(deadlineMs, options.signal, this.lifetime.signal);
  }
}
