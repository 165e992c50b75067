import type { Meta } from "@omnigate/oap";
import type { OapEvent } from "./events.js";
import type { OapStream } from "./stream.js";
import type { OapResponse } from "./unary-call.js";

/** Options every call takes. */
export interface CallOptions {
  /** The request's meta map, the app's own fields; the client adds `deadline_ms` and `idempotency_key`. */
  meta?: Meta;
  /** Tenant the stream acts for (default: the client's). */
  tenant?: bigint;
  /** Budget of the whole call in ms (default: the client's defaultDeadlineMs; Infinity for none). */
  deadlineMs?: number;
  /** Aborts the call: it rejects with OapAbortError and what is buffered is dropped. */
  signal?: AbortSignal;
  /** The body is end-to-end encrypted by the app (APP_E2E): the node forwards it untouched. */
  e2e?: boolean;
  /**
   * The body written is already zstd-compressed, e.g. an APP_E2E+COMP body a node passes
   * through: frames carry COMP and the bytes go out as they are.
   */
  compressed?: boolean;
  /** Capability token for this call (default: the client's). */
  cap?: Uint8Array;
}

/** Options of one streamed call. */
export interface StreamOptions extends CallOptions {
  /**
   * Takes the EVENT frames the node pushes under this stream's corr_id (e.g. the messages of a
   * mailbox subscription), in order, as they arrive. Without it such events are dropped.
   */
  onEvent?: (event: OapEvent) => void;
}

/** Options of one request/response call. */
export interface RequestOptions extends CallOptions {
  /** The request body; a string is sent as UTF-8. */
  body?: Uint8Array | string;
  /** Marks the request safe to send again: enables retries on connection loss, 429 and 503. */
  idempotencyKey?: string;
  /**
   * zstd-compress the body (COMP): "auto" (default) when it is at least the client's
   * compressThresholdBytes and the node's HELLO lists COMP; true always; false never.
   */
  compress?: boolean | "auto";
  /**
   * Largest response body to collect (default: the client's maxResponseBytes, 64 MiB). A larger
   * one fails the call with 413 payload_too_large; the rest of it is discarded as it arrives.
   */
  maxResponseBytes?: number;
}

/**
 * What the mailbox and storage facades need of a client: its two calls and whether it was
 * closed. OapClient is one; the facades take this rather than the client (as nats.js's
 * `jetstream(nc: NatsConnection)` does), so the client builds them without a circle.
 */
export interface OapCaller {
  readonly closed: boolean;
  request(appProtoId: number, options?: RequestOptions): Promise<OapResponse>;
  stream(appProtoId: number, options?: StreamOptions): OapStream;
}
