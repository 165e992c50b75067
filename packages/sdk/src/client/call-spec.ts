import { encodeMeta, type Meta } from "@omnigate/oap";
import type { ClientSpan } from "../tracing/client-span.js";
import { asClientError } from "./call-checks.js";
import type { CallScope } from "./call-scope.js";

/** The fixed identity of a stream's request frames (besides its corr_id). */
export interface CallTarget {
  appProtoId: number;
  tenantId: bigint;
  cap: Uint8Array | undefined;
  /** The body is end-to-end encrypted by the app: frames carry APP_E2E. */
  e2e: boolean;
  /** The body is zstd-compressed: frames carry COMP (decided per attempt, see compressFor). */
  compressed?: boolean;
  /** The call's CLIENT span, while a tracer provider is registered (see tracing/). */
  trace?: ClientSpan;
}

/** One call as the caller asked for it; every attempt of the call sends it anew. */
export interface CallSpec extends CallTarget {
  meta: Meta | undefined;
  /** The caller named a deadline (deadlineMs): the time left travels as deadline_ms. */
  sendsDeadline: boolean;
  idempotencyKey: string | undefined;
  /** COMP for the request body: see RequestOptions.compress (streams never compress). */
  compress?: boolean | "auto";
}

/**
 * The START meta of one attempt, as JSON bytes (undefined: none, sent as meta_len 0): the
 * caller's meta, plus deadline_ms (the time left now, only for a deadline the caller named;
 * without one the node applies its own default) and idempotency_key. A call with neither and
 * no meta of its own (the common case) costs no JSON at all.
 */
export function encodeCallMeta(spec: CallSpec, scope: CallScope): Uint8Array | undefined {
  const remaining = spec.sendsDeadline ? scope.remainingMs() : Number.POSITIVE_INFINITY;
  const withDeadline = Number.isFinite(remaining);
  try {
    if (!withDeadline && spec.idempotencyKey === undefined) return encodeMeta(spec.meta);
    const meta: Meta = { ...spec.meta };
    if (withDeadline) meta.deadline_ms = Math.max(1, Math.floor(remaining));
    if (spec.idempotencyKey !== undefined) meta.idempotency_key = spec.idempotencyKey;
    return encodeMeta(meta);
  } catch (error) {
    // bad_meta (too large), or meta JSON.stringify refuses (a BigInt, a cycle).
    throw asClientError(error);
  }
}
