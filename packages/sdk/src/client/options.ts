import type { HelloShaping } from "@omnigate/oap";
import type { Logger } from "../logger.js";
import { type CapProvider, defaultCap, type Environment } from "./capability.js";
import type { RetryPolicy } from "./retry.js";

/** How connect() and createClient() reach, trust and call a node; every field is optional. */
export interface ConnectOptions {
  /** PEM certificate(s) of the CA(s) to trust instead of the system store. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Path of a PEM file with the CA(s) to trust. Without ca/caFile/fingerprint/insecure, $RON_CA_FILE is used if set. */
  caFile?: string;
  /**
   * Pinned SHA-256 fingerprint (`AA:BB:…` or plain hex) of the server certificate, or of a
   * certificate in the chain it presents. Replaces CA verification, so self-signed certs work.
   */
  fingerprint?: string;
  /** Development only: accept any certificate. */
  insecure?: boolean;
  /** TLS SNI / name checked against the certificate; defaults to the URL host. */
  servername?: string;
  /** Default tenant for requests (u128). */
  tenant?: bigint;
  /**
   * Default capability sent on every START frame: bytes or base64url text. Without it,
   * `$RON_CAP` is used if set (what a dev node prints on start).
   */
  cap?: Uint8Array | string;
  /**
   * Called for a new capability when the node refuses the current one as expired, revoked or
   * unknown (401); the refused request is then sent once more with it. Streams are not resent.
   */
  capProvider?: CapProvider;
  /** Deadline of a call that names none, in ms (default 30000). */
  defaultDeadlineMs?: number;
  /**
   * Also dial the nodes a cluster's HELLO lists (`nodes`, specs/oap-1.md §8.2) when the
   * connection is lost, besides the URLs given (default true). Only those on the same transport
   * (TLS or WebSocket) as the first URL are taken.
   */
  discoverNodes?: boolean;
  /** Bound on TCP + TLS + HELLO with one node, in ms (default 10000). */
  connectTimeoutMs?: number;
  /** How idempotent calls are retried after connection loss, 429 and 503 (see CLIENT_DEFAULTS.retry). */
  retry?: Partial<RetryPolicy>;
  /** Unread response bytes, across streams, above which the socket is paused (default 8 MiB). */
  maxBufferedBytes?: number;
  /** Largest response body `request()` collects; larger ones fail with 413 payload_too_large (default 64 MiB). */
  maxResponseBytes?: number;
  /** Request bodies at least this long are zstd-compressed (COMP) when the node supports it (default 16 KiB). */
  compressThresholdBytes?: number;
  /** Where the client logs retries, capability refreshes and listener errors (default: nowhere). */
  logger?: Logger;
  /**
   * Traffic shaping against observers of the encrypted traffic (specs/oap-1.md §10.1,
   * docs/shaping.md): asked of the node in HELLO for its sends, and applied to the client's own
   * once the node agrees. Over TLS only; ignored over WebSocket. Default: none.
   */
  shaping?: ShapingOptions;
}

/**
 * What the client asks the node to apply to each side's sends (specs/oap-1.md §10.1). The node
 * may lower each number to its own maximum; both sides then apply what it granted.
 */
export interface ShapingOptions {
  /** Pad each write burst with PAD frames to a Padmé bucket, a power of two, or not at all (default "padme"). */
  padding?: "padme" | "pow2" | "off";
  /** Hold each burst a uniformly random 0..jitterMs ms, coalescing what comes meanwhile (default 0: no jitter). */
  jitterMs?: number;
  /** Mean rate of cover bursts (PAD frames only), per second (default 0: no cover traffic). */
  coverHz?: number;
  /** Cover bursts are drawn from 55..coverMaxBytes bytes before padding (default 4096). */
  coverMaxBytes?: number;
}

export interface ResolvedClientOptions {
  tenant: bigint;
  /** Replaced when capProvider refreshes it. */
  cap: Uint8Array | undefined;
  capProvider: CapProvider | undefined;
  defaultDeadlineMs: number;
  connectTimeoutMs: number;
  retry: RetryPolicy;
  maxBufferedBytes: number;
  maxResponseBytes: number;
  compressThresholdBytes: number;
  /** The `shaping` of the HELLO request, every key filled in; undefined: none asked. */
  shaping: HelloShaping | undefined;
}

/** The value ConnectOptions falls back to for each setting not given. */
export const CLIENT_DEFAULTS = {
  /** Tenant 0. */
  tenant: 0n,
  /** 30 s per call. */
  defaultDeadlineMs: 30_000,
  /** 10 s for TCP + TLS + HELLO. */
  connectTimeoutMs: 10_000,
  /** Up to 5 attempts, full-jitter backoff from 100 ms, at most 5 s apart. */
  retry: {
    /** Backoff base in ms. */
    baseMs: 100,
    /** Upper bound of one backoff in ms. */
    capMs: 5_000,
    /** Attempts in all, the first included. */
    maxAttempts: 5,
  },
  /** 8 MiB of unread response bytes before the socket is paused. */
  maxBufferedBytes: 8 * 1024 * 1024,
  /** 64 MiB: the largest response body request() collects. */
  maxResponseBytes: 64 * 1024 * 1024,
  /** 16 KiB: request bodies from this size are compressed when the node supports COMP. */
  compressThresholdBytes: 16 * 1024,
  /** What a `shaping` option leaves out: Padmé padding, no jitter, no cover traffic, cover bursts ≤ 4 KiB. */
  shaping: {
    /** Padmé buckets. */
    padding: "padme",
    /** No jitter. */
    jitterMs: 0,
    /** No cover traffic. */
    coverHz: 0,
    /** Cover bursts of at most 4 KiB before padding. */
    coverMaxBytes: 4096,
  },
} as const;

/** `env` supplies `$RON_CAP` when no cap is given (process.env in Node; nothing in a browser). */
export function resolveClientOptions(options: ConnectOptions, env: Environment): ResolvedClientOptions {
  const resolved: ResolvedClientOptions = {
    tenant: options.tenant ?? CLIENT_DEFAULTS.tenant,
    cap: defaultCap(options.cap, env),
    capProvider: options.capProvider,
    defaultDeadlineMs: options.defaultDeadlineMs ?? CLIENT_DEFAULTS.defaultDeadlineMs,
    connectTimeoutMs: options.connectTimeoutMs ?? CLIENT_DEFAULTS.connectTimeoutMs,
    retry: { ...CLIENT_DEFAULTS.retry, ...options.retry },
    maxBufferedBytes: options.maxBufferedBytes ?? CLIENT_DEFAULTS.maxBufferedBytes,
    maxResponseBytes: options.maxResponseBytes ?? CLIENT_DEFAULTS.maxResponseBytes,
    compressThresholdBytes: options.compressThresholdBytes ?? CLIENT_DEFAULTS.compressThresholdBytes,
    shaping: options.shaping && resolveShaping(options.shaping),
  };
  checkTenant(resolved.tenant);
  positive("defaultDeadlineMs", resolved.defaultDeadlineMs);
  positive("connectTimeoutMs", resolved.connectTimeoutMs);
  positive("maxBufferedBytes", resolved.maxBufferedBytes);
  positive("maxResponseBytes", resolved.maxResponseBytes);
  positive("compressThresholdBytes", resolved.compressThresholdBytes);
  positive("retry.baseMs", resolved.retry.baseMs);
  positive("retry.capMs", resolved.retry.capMs);
  if (!Number.isInteger(resolved.retry.maxAttempts) || resolved.retry.maxAttempts < 1) {
    throw new RangeError(`retry.maxAttempts must be an integer ≥ 1, got ${resolved.retry.maxAttempts}`);
  }
  return resolved;
}

/** Smallest and largest cover burst before padding: one bare PAD frame, one max_frame. */
const COVER_BYTES_RANGE = [55, 1_048_576] as const;

function resolveShaping(options: ShapingOptions): HelloShaping {
  const d = CLIENT_DEFAULTS.shaping;
  const shaping: HelloShaping = {
    padding: options.padding ?? d.padding,
    jitter_ms: options.jitterMs ?? d.jitterMs,
    cover_hz: options.coverHz ?? d.coverHz,
    cover_max_bytes: options.coverMaxBytes ?? d.coverMaxBytes,
  };
  if (!["padme", "pow2", "off"].includes(shaping.padding)) {
    throw new RangeError(`shaping.padding must be "padme", "pow2" or "off", got ${String(shaping.padding)}`);
  }
  for (const [name, value] of [
    ["shaping.jitterMs", shaping.jitter_ms],
    ["shaping.coverHz", shaping.cover_hz],
  ] as const) {
    if (!(Number.isFinite(value) && value >= 0))
      throw new RangeError(`${name} must be a number ≥ 0, got ${value}`);
  }
  const [least, most] = COVER_BYTES_RANGE;
  const cover = shaping.cover_max_bytes;
  if (!Number.isInteger(cover) || cover < least || cover > most) {
    throw new RangeError(`shaping.coverMaxBytes must be an integer in ${least}..${most}, got ${cover}`);
  }
  return shaping;
}

const U128_MAX = (1n << 128n) - 1n;

export function checkTenant(tenant: bigint): void {
  if (typeof tenant !== "bigint" || tenant < 0n || tenant > U128_MAX) {
    throw new RangeError(`tenant must be a bigint in 0..2^128-1, got ${String(tenant)}`);
  }
}

export function positive(name: string, value: number): void {
  if (!(value > 0)) throw new RangeError(`${name} must be a positive number, got ${value}`);
}
