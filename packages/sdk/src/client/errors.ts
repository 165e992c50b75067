import { isRetryableCode, type Meta, REASONS } from "@omnigate/oap";
import { hintFor } from "./hints.js";

/** Reasons the client itself reports (the node's reasons come from the canonical list in @omnigate/oap). */
export type ClientReason =
  | "timeout"
  | "aborted"
  | "connection_lost"
  | "connect_failed"
  | "connect_timeout"
  | "tls_untrusted"
  | "bad_hello"
  | "client_closed"
  | "protocol_error"
  | "stream_ended";

interface ClientErrorInit {
  code: number;
  reason: string;
  corrId?: bigint | undefined;
  retryable: boolean;
  retryAfterMs?: number | undefined;
  cause?: unknown;
  /** What to do; default: the hint for `reason` (hints.ts). */
  hint?: string | undefined;
}

/** Base of every error the client rejects with. */
export class OapClientError extends Error {
  /** HTTP-like status: the node's code, or the client's own (504 deadline, as the node reports it; 499 abort; 503 connection). */
  readonly code: number;
  /** Canonical reason from the node, or a ClientReason. */
  readonly reason: string;
  /** corr_id of the stream, when one was opened. */
  readonly corrId: bigint | undefined;
  /** True when sending the request again may succeed (only done for requests with an idempotency key). */
  readonly retryable: boolean;
  /** The node's hint for how long to wait before trying again. */
  readonly retryAfterMs: number | undefined;
  /** What the user can do about it, in one short line (e.g. how to start a node or mint a capability). */
  readonly hint: string | undefined;

  /** @internal The client and its subclasses construct it; catch and read it. */
  constructor(message: string, init: ClientErrorInit) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "OapClientError";
    this.code = init.code;
    this.reason = init.reason;
    this.corrId = init.corrId;
    this.retryable = init.retryable;
    this.retryAfterMs = init.retryAfterMs;
    this.hint = init.hint ?? hintFor(init.reason);
  }
}

/** The node answered with a code ≥ 400. */
export class OapRequestError extends OapClientError {
  /** The full meta of the error frame. */
  readonly meta: Meta;

  constructor(code: number, meta: Meta, corrId: bigint | undefined) {
    const reason = typeof meta.reason === "string" ? meta.reason : "internal";
    const serverMessage = typeof meta.message === "string" ? meta.message : `request failed with ${code}`;
    const retryAfter = meta.retry_after_ms;
    super(serverMessage, {
      code,
      reason,
      corrId,
      retryable: isRetryableCode(code),
      retryAfterMs: typeof retryAfter === "number" && retryAfter >= 0 ? retryAfter : undefined,
    });
    this.name = "OapRequestError";
    this.meta = meta;
  }
}

/** The call's deadline expired (noticed by the client, or reported by the node as reason "timeout"). */
export class OapTimeoutError extends OapClientError {
  constructor(message: string, corrId?: bigint) {
    super(message, { code: REASONS.timeout, reason: "timeout", corrId, retryable: false });
    this.name = "OapTimeoutError";
  }
}

/** What an OapConnectionError says beyond its message; every field has a default. */
export interface ConnectionErrorOptions {
  /** A ClientReason, or the node's reason when it refused the HELLO. Default "connection_lost". */
  reason?: ClientReason | (string & {});
  /** Default 503; the node's code when it refused the HELLO. */
  code?: number;
  /** The stream the failure hit, when it hit one. */
  corrId?: bigint | undefined;
  /** Default true. */
  retryable?: boolean;
  /** How long the node asked the client to wait before connecting again (a refused HELLO). */
  retryAfterMs?: number | undefined;
  /** The underlying error (a socket or TLS error), kept as the error's `cause`. */
  cause?: unknown;
}

/**
 * The connection was refused, could not be set up, or was lost while the call was pending.
 * When the node answered the HELLO with an error, `code`, `reason` and `retryAfterMs` are
 * the node's (e.g. 503 `not_ready`): the call's own request was never sent.
 */
export class OapConnectionError extends OapClientError {
  constructor(message: string, options: ConnectionErrorOptions = {}) {
    super(message, {
      code: options.code ?? 503,
      reason: options.reason ?? "connection_lost",
      corrId: options.corrId,
      retryable: options.retryable ?? true,
      retryAfterMs: options.retryAfterMs,
      cause: options.cause,
    });
    this.name = "OapConnectionError";
  }

  /** The same failure, attributed to one stream. */
  forStream(corrId: bigint): OapConnectionError {
    return new OapConnectionError(this.message, {
      reason: this.reason,
      code: this.code,
      corrId,
      retryable: this.retryable,
      retryAfterMs: this.retryAfterMs,
      cause: this.cause,
    });
  }
}

/**
 * The node broke the protocol on a stream (a response frame before START, a second START, a
 * START whose meta is not a JSON object): 502 `protocol_error`. Not an OapRequestError, since
 * the node did not answer the request; not retried.
 */
export class OapProtocolError extends OapClientError {
  constructor(message: string, corrId?: bigint) {
    super(message, { code: 502, reason: "protocol_error", corrId, retryable: false });
    this.name = "OapProtocolError";
  }
}

/** The caller's AbortSignal fired. */
export class OapAbortError extends OapClientError {
  constructor(message: string, corrId?: bigint, cause?: unknown) {
    super(message, { code: 499, reason: "aborted", corrId, retryable: false, cause });
    this.name = "OapAbortError";
  }
}
