/**
 * The canonical error reasons and the status code each one is answered with.
 * This list is the single source for error frames, SDK errors and the
 * `rejected_total{reason}` metric label; specs/oap-1.md §7 mirrors it.
 */
export const REASONS = {
  bad_frame: 400,
  bad_version: 400,
  bad_flags: 400,
  frame_too_large: 413,
  cap_on_non_start: 400,
  cap_too_large: 413,
  bad_meta: 400,
  stream_violation: 400,
  too_many_streams: 429,
  unsupported: 400,
  unknown_app: 404,
  unauthenticated: 401,
  forbidden: 403,
  cap_expired: 401,
  cap_revoked: 401,
  tenant_mismatch: 403,
  not_found: 404,
  conflict: 409,
  stale: 410,
  request_timeout: 408,
  timeout: 504,
  payload_too_large: 413,
  range_not_satisfiable: 416,
  decompress_cap: 413,
  ratio_cap: 413,
  bad_compression: 400,
  quota: 429,
  overloaded: 503,
  not_ready: 503,
  shutting_down: 503,
  backend_unavailable: 502,
  backend_timeout: 504,
  service_crashed: 503,
  object_corrupt: 500,
  internal: 500,
} as const satisfies Record<string, StatusCode>;

export type Reason = keyof typeof REASONS;

/** Status codes a response may carry (specs/oap-1.md §5). */
export const STATUS_CODES = [
  200, 206, 400, 401, 403, 404, 408, 409, 410, 413, 416, 429, 500, 502, 503, 504,
] as const;

export type StatusCode = (typeof STATUS_CODES)[number];

export function isReason(value: unknown): value is Reason {
  return typeof value === "string" && Object.hasOwn(REASONS, value);
}

/** Codes after which a request carrying an idempotency key may be sent again. */
export function isRetryableCode(code: number): boolean {
  return code === 429 || code === 503;
}
