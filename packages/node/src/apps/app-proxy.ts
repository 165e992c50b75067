import { isReason, OapError } from "@omnigate/oap";
import {
  type IncomingRequest,
  OapAbortError,
  OapClientError,
  OapConnectionError,
  OapProtocolError,
  OapRequestError,
  type OapStream,
  OapTimeoutError,
  type ResponseHead,
  type ResponseWriter,
  type Service,
} from "@omnigate/sdk";
import { type AppSettings, hex } from "../config/index.js";
import type { AppStats } from "./app-stats.js";
import type { BackendPool } from "./backend-pool.js";

const E2E = { e2e: true } as const;
/** Retry hint on 503 overloaded: streams to a backend free up quickly. */
const OVERLOADED_RETRY_MS = 100;

/** The backend did not produce what the node was waiting for within timeout_ms. */
class BackendTimeout extends Error {}

/**
 * Routes one registered app_proto_id to its backend: each stream is forwarded over a pooled
 * OAP connection with its tenant, meta, capability and APP_E2E flag unchanged, and the reply
 * streams back. Backpressure holds both ways: request chunks are read from the client only
 * as fast as the backend connection takes them, and reply chunks are read from the backend
 * only once the client's socket has taken the previous one. What a slow client leaves unread
 * therefore piles up in one place, the backend connection's receive queue, which stops reading
 * at `buffer_bytes` (see docs/app-backends.md for the head-of-line cost of that).
 */
export class AppProxyService implements Service {
  readonly appProtoId: number;
  readonly name: string;

  constructor(
    private readonly app: AppSettings,
    private readonly pool: BackendPool,
    private readonly stats: AppStats,
  ) {
    this.appProtoId = app.id;
    this.name = app.name;
  }

  async handle(req: IncomingRequest, res: ResponseWriter): Promise<void> {
    const { stats } = this;
    if (stats.open >= this.app.maxInflight) {
      stats.count("overloaded");
      throw new OapError(
        "overloaded",
        `${this.app.maxInflight} streams are already open to the backend of ${hex(this.app.id)}; retry shortly`,
        { retryAfterMs: OVERLOADED_RETRY_MS },
      );
    }
    const upstream = this.pool.pick().stream(this.app.id, {
      meta: req.meta,
      tenant: req.tenantId,
      cap: req.cap.byteLength > 0 ? req.cap : undefined,
      e2e: req.e2e,
      // The node's own deadline for the stream governs (it aborts req.signal); meta carries the client's.
      deadlineMs: Number.POSITIVE_INFINITY,
      signal: req.signal,
    });
    const held = new HeldReply(upstream);
    stats.started(held);
    try {
      const requestSent = forwardRequest(req, upstream);
      const head = await this.fromBackend(upstream.response, requestSent);
      await this.relayReply(head, upstream, held, res, requestSent);
    } catch (error) {
      upstream.discard();
      this.fail(error, res);
    } finally {
      stats.finished(held);
    }
  }

  /** Sends the reply on: in one frame if it is already complete, else chunk by chunk at the client's pace. */
  private async relayReply(
    head: ResponseHead,
    upstream: OapStream,
    held: HeldReply,
    res: ResponseWriter,
    requestSent: Promise<void>,
  ): Promise<void> {
    const options = head.e2e ? E2E : undefined;
    const whole = upstream.completeBody();
    if (whole) {
      res.reply(head.code, head.meta, whole, options);
      this.stats.count("replied");
      return;
    }
    await res.start(head.code, head.meta, undefined, options);
    const chunks = upstream[Symbol.asyncIterator]();
    while (true) {
      // While the client is still sending, a quiet backend may be waiting for it: no timeout then.
      const next = await this.fromBackend(chunks.next(), requestSent);
      if (next.done) break;
      if (res.ended) return; // the client's side failed (deadline, connection gone)
      held.writing = next.value.byteLength;
      this.stats.observe(held.heldBytes());
      await res.write(next.value);
      held.writing = 0;
    }
    res.end();
    this.stats.count("replied");
  }

  /**
   * Waits for the backend, bounded by timeout_ms; the clock starts once `after` settles (the
   * reply is due only once the whole request has been forwarded).
   */
  private fromBackend<T>(waiting: Promise<T>, after: Promise<unknown>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      let settled = false;
      const arm = () => {
        if (settled) return;
        timer = setTimeout(
          () => reject(new BackendTimeout(`no answer within ${this.app.timeoutMs} ms`)),
          this.app.timeoutMs,
        );
      };
      after.then(arm, arm);
      waiting.then(
        (value) => {
          settled = true;
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          settled = true;
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }

  /** Ends the stream with the error the client should see, and counts it. */
  private fail(error: unknown, res: ResponseWriter): void {
    if (res.ended || error instanceof OapAbortError) return; // the node already ended it (deadline, client gone)
    const app = hex(this.app.id);
    if (error instanceof BackendTimeout) {
      this.stats.count("backendTimeout");
      res.fail(new OapError("backend_timeout", `the backend of app ${app} did not answer in time`));
      return;
    }
    if (error instanceof OapRequestError && error.reason !== "shutting_down") {
      // The backend's own answer: relayed with its code (a reason outside the canonical list becomes internal).
      this.stats.count("backendErrors");
      const reason = isReason(error.reason) ? error.reason : "internal";
      res.fail(new OapError(reason, error.message, { code: error.code, retryAfterMs: error.retryAfterMs }));
      return;
    }
    if (error instanceof OapTimeoutError) {
      this.stats.count("backendErrors");
      res.fail(new OapError("timeout", error.message));
      return;
    }
    if (
      error instanceof OapConnectionError ||
      error instanceof OapProtocolError ||
      error instanceof OapRequestError // the backend is shutting down: it did not take the request
    ) {
      this.stats.count("backendUnavailable");
      res.fail(new OapError("backend_unavailable", `the backend of app ${app} is unavailable`));
      return;
    }
    if (error instanceof OapClientError && isReason(error.reason)) {
      // Refused before it reached the backend, e.g. meta too large for the backend's frames.
      res.fail(new OapError(error.reason, error.message, { code: error.code }));
      return;
    }
    throw error;
  }
}

/**
 * The reply bytes the node holds for one stream: what its backend connection received and the
 * proxy has not taken yet, plus the chunk being written to the client until the client's
 * socket has room again.
 */
class HeldReply {
  writing = 0;

  constructor(private readonly upstream: OapStream) {}

  heldBytes(): number {
    return this.upstream.bufferedBytes + this.writing;
  }
}

/**
 * Forwards the request body: a request that already arrived whole goes out in one frame;
 * otherwise each chunk is read from the client only after the backend connection took the
 * previous one. Resolves when the request side has been sent (or can no longer be).
 */
async function forwardRequest(req: IncomingRequest, upstream: OapStream): Promise<void> {
  try {
    const whole = req.completeBody();
    if (whole) return await upstream.end(whole);
    for await (const chunk of req.body) await upstream.write(chunk);
    await upstream.end();
  } catch {
    // The upstream stream failed (its reply says why) or the client's stream was torn down.
  }
}
