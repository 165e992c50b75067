import { OapClientError, type OapStream, type ResponseHead } from "@omnigate/sdk";
import type { AppStats } from "./app-stats.js";

/** The backend did not produce what the node was waiting for within timeout_ms. */
export class BackendTimeoutError extends OapClientError {
  constructor(timeoutMs: number) {
    super(`the backend did not answer within ${timeoutMs} ms`, {
      code: 504,
      reason: "backend_timeout",
      retryable: false,
    });
    this.name = "BackendTimeoutError";
  }
}

/**
 * One client stream forwarded to a backend: its upstream stream, whether the node is waiting on
 * the backend (and since when), and the reply bytes the node holds for it.
 */
export class ProxiedStream {
  /** The whole request has gone upstream: from now on a quiet backend is a slow backend. */
  requestSent = false;
  /** Bytes handed to the client's socket that it has not taken yet. */
  writing = 0;
  /** Date.now() when the node started waiting on the backend; 0 when it is not waiting. */
  waitingSince = 0;

  /** Settles with the reply head, or with BackendTimeoutError (see timeOut). */
  readonly head: Promise<ResponseHead>;
  private failHead: ((error: unknown) => void) | undefined;

  constructor(readonly upstream: OapStream) {
    // Its own promise rather than upstream.response: a stream still queued for a backend slot
    // has not opened, so cancelling it alone would leave the head pending until it does.
    this.head = new Promise<ResponseHead>((resolve, reject) => {
      this.failHead = reject;
      upstream.response.then(resolve, reject);
    });
  }

  /** The backend took too long: the stream fails with BackendTimeoutError wherever it waits. */
  timeOut(timeoutMs: number): void {
    const error = new BackendTimeoutError(timeoutMs);
    this.waitingSince = 0;
    this.failHead?.(error);
    this.upstream.cancel(error);
  }

  waitForBackend(): void {
    this.waitingSince = Date.now();
  }

  gotFromBackend(): void {
    this.waitingSince = 0;
  }

  /** Reply bytes held for this stream: received from the backend and not yet taken by the client. */
  heldBytes(): number {
    return this.upstream.bufferedBytes + this.writing;
  }
}

/** Shortest and longest interval between two checks of the streams' waits. */
const MIN_CHECK_MS = 5;
const MAX_CHECK_MS = 250;

/**
 * Enforces timeout_ms with one coarse timer per app instead of one per wait: every quarter of
 * the timeout (5–250 ms), streams that have waited on the backend longer than timeout_ms (with
 * their request fully sent) are cancelled with BackendTimeoutError. So a timeout fires up to a
 * quarter of timeout_ms (at most 250 ms) late. The timer runs only while streams are open.
 */
export class BackendWatch {
  private timer: NodeJS.Timeout | undefined;
  private readonly checkMs: number;

  constructor(
    private readonly timeoutMs: number,
    private readonly stats: AppStats<ProxiedStream>,
  ) {
    this.checkMs = Math.min(MAX_CHECK_MS, Math.max(MIN_CHECK_MS, Math.floor(timeoutMs / 4)));
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.check(), this.checkMs);
    this.timer.unref();
  }

  private check(): void {
    const expired = Date.now() - this.timeoutMs;
    let open = 0;
    for (const stream of this.stats.streams()) {
      open++;
      if (stream.requestSent && stream.waitingSince !== 0 && stream.waitingSince <= expired) {
        stream.timeOut(this.timeoutMs);
      }
    }
    if (open === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}
