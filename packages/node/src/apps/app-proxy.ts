import { formatAppProtoId, isReason, OapError } from "@omnigate/oap";
import {
  type IncomingRequest,
  OapAbortError,
  OapClientError,
  OapConnectionError,
  OapProtocolError,
  OapRequestError,
  OapTimeoutError,
  type ResponseHead,
  type ResponseWriter,
  type Service,
} from "@omnigate/sdk/internal";
import type { AppSettings } from "../config/index.js";
import type { AppStats } from "./app-stats.js";
import type { BackendPool } from "./backend-pool.js";
import { BackendTimeoutError, BackendWatch, ProxiedStream } from "./proxied-stream.js";

const E2E = { e2e: true } as const;
/** Retry hint on 503 overloaded: streams to a backend free up quickly. */
const OVERLOADED_RETRY_MS = 100;

/**
 * Routes one registered app_proto_id to its backend: each stream is forwarded over a pooled
 * OAP connection with its tenant, meta, capability and APP_E2E flag unchanged, and the reply
 * streams back. Backpressure holds both ways: request chunks are read from the client only
 * as fast as the backend connection takes them, and reply chunks are read from the backend
 * only once the client's socket has taken the previous one. What a slow client leaves unread
 * therefore piles up in one place, the backend connection's receive queue, which stops reading
 * at `buffer_bytes` (docs/app-backends.md explains the head-of-line cost of that).
 */
export class AppProxyService implements Service {
  readonly appProtoId: number;
  readonly name: string;
  private readonly watch: BackendWatch;

  constructor(
    private readonly app: AppSettings,
    private readonly pool: BackendPool,
    private readonly stats: AppStats<ProxiedStream>,
  ) {
    this.appProtoId = app.id;
    this.name = app.name;
    this.watch = new BackendWatch(app.timeoutMs, stats);
  }

  async handle(req: IncomingRequest, res: ResponseWriter): Promise<void> {
    const { stats } = this;
    if (stats.open >= this.app.maxInflight) {
      stats.count("overloaded");
      throw new OapError(
        "overloaded",
        `${this.app.maxInflight} streams are already open to the backend of ${formatAppProtoId(this.app.id)}; retry shortly`,
        { retryAfterMs: OVERLOADED_RETRY_MS },
      );
    }
    // No signal: a client that goes away ends `res` and the request body, which stops both pumps
    // (an AbortSignal per stream would cost more than the rest of a small request's forwarding).
    // Called in the request's trace context (the node's dispatch span, when traced): the SDK
    // client's CLIENT span for this stream is the proxy hop, and its traceparent replaces the
    // client's in the meta sent on. Untraced, the client's traceparent goes on as it came.
    const upstream = this.pool.pick().stream(this.app.id, {
      meta: req.meta,
      tenant: req.tenantId,
      cap: req.cap.length > 0 ? req.cap : undefined,
      e2e: req.e2e,
      // An APP_E2E+COMP body was not inflated: it goes on compressed, byte-exact.
      compressed: req.compressed,
      // The node's own deadline for the stream governs; meta carries the client's deadline_ms on.
      deadlineMs: Number.POSITIVE_INFINITY,
    });
    const proxied = new ProxiedStream(upstream);
    stats.started(proxied);
    this.watch.start();
    try {
      forwardRequest(req, proxied);
      proxied.waitForBackend();
      const head = await proxied.head;
      proxied.gotFromBackend();
      await this.relayReply(head, proxied, res);
    } catch (error) {
      upstream.discard();
      this.fail(error, res);
    } finally {
      stats.finished(proxied);
    }
  }

  /** Sends the reply on: in one frame if it is already complete, else chunk by chunk at the client's pace. */
  private async relayReply(head: ResponseHead, proxied: ProxiedStream, res: ResponseWriter): Promise<void> {
    const { upstream } = proxied;
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
      proxied.waitForBackend();
      const next = await chunks.next();
      proxied.gotFromBackend();
      if (next.done) break;
      if (res.ended) {
        // The client's side of the stream ended (deadline, connection gone): stop relaying.
        upstream.discard();
        return;
      }
      proxied.writing = next.value.length;
      this.stats.observe(proxied.heldBytes());
      await res.write(next.value);
      proxied.writing = 0;
    }
    res.end();
    this.stats.count("replied");
  }

  /** Ends the stream with the error the client should see, and counts it. */
  private fail(error: unknown, res: ResponseWriter): void {
    if (res.ended || error instanceof OapAbortError) return; // the node already ended it
    const app = formatAppProtoId(this.app.id);
    if (error instanceof BackendTimeoutError) {
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
      // The backend reported the request's deadline passed (the node's calls upstream have none of their own).
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
 * Forwards the request body: a request that already arrived whole goes out in one frame;
 * otherwise each chunk is read from the client only after the backend connection took the
 * previous one. Marks the stream once the request side has been sent (or can no longer be).
 */
async function forwardRequest(req: IncomingRequest, proxied: ProxiedStream): Promise<void> {
  const { upstream } = proxied;
  try {
    const whole = req.completeBody();
    if (whole) {
      proxied.requestSent = true;
      await upstream.end(whole);
      return;
    }
    for await (const chunk of req.body) await upstream.write(chunk);
    proxied.requestSent = true;
    await upstream.end();
  } catch {
    // The upstream stream failed (its reply says why) or the client's stream was torn down.
    proxied.requestSent = true;
  }
}
