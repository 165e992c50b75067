import type { CapContext, VerifiedCap } from "@omnigate/caps";
import { AppProtoId, OapError } from "@omnigate/oap";
import type { IncomingRequest } from "@omnigate/sdk";
import { BoundedLru } from "../util/bounded-lru.js";
import { TokenBucket } from "../util/token-bucket.js";
import type { Authority } from "./authority.js";

/** Tokens whose `rps`/`bytes` caveats are metered at once; the least recently used beyond are forgotten. */
const METERED_TOKENS = 10_000;
const RETRY_MIN_MS = 1_000;
const RETRY_MAX_MS = 5_000;

/**
 * A connection's last verified capability, so repeated STARTs skip the hash and cache lookup,
 * and the last request shape it was authorized for, so the same shape again skips the checks
 * while their outcome cannot have changed (the common case: one op, over and over).
 */
interface LastVerified {
  bytes: Uint8Array;
  cap: VerifiedCap;
  grant: Grant | undefined;
}
const LAST_KEY = "capability.last";

/** A request shape the token was authorized for, and what that outcome depends on. */
interface Grant {
  tenant: bigint;
  app: number;
  /** `meta.op` and `meta.topic` as the request had them (compared by identity: strings). */
  op: unknown;
  topic: unknown;
  /** Request time of the check: a clock that went back makes the grant void (`not-before`). */
  at: number;
  /** Checked again from here on: the token's expiry, its key's retirement, or GRANT_MAX_MS. */
  until: number;
  keys: number;
  revocations: number;
}
/** A grant is rechecked in full at least this often, whatever its window says. */
const GRANT_MAX_MS = 1_000;

interface TokenMeter {
  requests: TokenBucket | undefined;
  bytes: TokenBucket | undefined;
}

/**
 * Stage 3 of the admission chain: every request carries a capability (its START frame's, or
 * the one its connection bound in HELLO), verified before any quota token is spent or any
 * service sees the request. HELLO itself (app 0) needs none: it is how a client learns the
 * node's limits and `rev_seq`. The request's op is `<service name>.<meta.op>` and its topic
 * `meta.topic`. The node-to-node app (0x0401) is left to its service, which checks node
 * capabilities under the DHT network key instead of the tenants' root keys. A token's `rps <= n` and `bytes <= n` caveats are applied here as per-token
 * token buckets (n requests/s and n request-body bytes/s, bursts of n), refused with 429
 * `quota` like any quota.
 */
export class CapabilityStage {
  private readonly meters = new BoundedLru<string, TokenMeter>(METERED_TOKENS);
  /**
   * The connection of the last check and its LastVerified: consecutive requests mostly come on
   * one connection, and this skips the lookup in its `locals` map. Holds one connection's entry
   * at most, forgotten when that connection closes (so a quiet node does not keep it alive).
   */
  private lastConnection: IncomingRequest["connection"] | undefined;
  private lastOnConnection: LastVerified | undefined;

  constructor(
    private readonly authority: Authority,
    private readonly serviceName: (appProtoId: number) => string | undefined,
  ) {}

  get enabled(): boolean {
    return this.authority.enabled;
  }

  /** Throws the OapError that refuses the request; returns the verified token otherwise. */
  check(req: IncomingRequest, now: number): VerifiedCap | undefined {
    // The node-to-node app checks node capabilities under the network key itself (dht/).
    if (
      !this.authority.enabled ||
      req.appProtoId === AppProtoId.CONTROL ||
      req.appProtoId === AppProtoId.DHT
    ) {
      return undefined;
    }
    const connection = req.connection;
    const bytes = req.cap.length > 0 ? req.cap : connection.boundCap;
    const last = this.lastVerified(connection);
    let cap: VerifiedCap | undefined;
    if (bytes && last && sameBytes(last.bytes, bytes)) {
      cap = last.cap;
      if (!this.granted(last.grant, req, now)) {
        this.authority.authorize(cap, this.context(req), now);
        last.grant = this.grant(cap, req, now);
      }
    } else {
      cap = this.authority.verify(bytes, this.context(req), now);
      // A START's capability may view the whole received chunk, which the connection must not
      // pin: it is copied. The bound one is the connection's own copy, never changed: kept as
      // is, so the next START without a capability matches it by identity, not byte by byte.
      const kept = bytes === connection.boundCap ? bytes : bytes && Uint8Array.from(bytes);
      if (cap && kept) {
        const entry: LastVerified = { bytes: kept, cap, grant: this.grant(cap, req, now) };
        // Once per connection: its first verified capability.
        if (!connection.locals.has(LAST_KEY)) connection.onClose(() => this.forget(connection));
        connection.locals.set(LAST_KEY, entry);
        this.lastOnConnection = entry;
      }
    }
    if (cap && (cap.rps !== undefined || cap.bytes !== undefined)) this.meter(cap, req.startBodyBytes, now);
    return cap;
  }

  /** The connection's LastVerified (its `locals` entry), remembered for the next check on it. */
  private lastVerified(connection: IncomingRequest["connection"]): LastVerified | undefined {
    if (connection !== this.lastConnection) {
      this.lastConnection = connection;
      this.lastOnConnection = connection.locals.get(LAST_KEY) as LastVerified | undefined;
    }
    return this.lastOnConnection;
  }

  private forget(connection: IncomingRequest["connection"]): void {
    if (this.lastConnection !== connection) return;
    this.lastConnection = undefined;
    this.lastOnConnection = undefined;
  }

  /** What the token's rules are checked against: tenant, app, `<service>.<meta.op>`, `meta.topic`. */
  private context(req: IncomingRequest): CapContext {
    const { op, topic } = req.meta;
    return {
      tenant: req.tenantId,
      app: req.appProtoId,
      ...(typeof op === "string" ? { op: `${this.serviceName(req.appProtoId)}.${op}` } : {}),
      ...(typeof topic === "string" ? { topic } : {}),
    };
  }

  private grant(cap: VerifiedCap, req: IncomingRequest, now: number): Grant {
    const window = this.authority.grantWindow(cap);
    return {
      tenant: req.tenantId,
      app: req.appProtoId,
      op: req.meta.op,
      topic: req.meta.topic,
      at: now,
      until: Math.min(window.until, now + GRANT_MAX_MS),
      keys: window.keys,
      revocations: window.revocations,
    };
  }

  /** True when `grant` covers this request: same shape, inside its window, nothing changed since. */
  private granted(grant: Grant | undefined, req: IncomingRequest, now: number): boolean {
    return (
      grant !== undefined &&
      now >= grant.at &&
      now < grant.until &&
      grant.tenant === req.tenantId &&
      grant.app === req.appProtoId &&
      grant.op === req.meta.op &&
      grant.topic === req.meta.topic &&
      this.authority.grantStands(grant)
    );
  }

  private meter(cap: VerifiedCap, bodyBytes: number, now: number): void {
    const meter = this.meters.getOrCreate(cap.tokenId, () => ({
      requests: cap.rps === undefined ? undefined : new TokenBucket(cap.rps, cap.rps, now),
      bytes: cap.bytes === undefined ? undefined : new TokenBucket(cap.bytes, cap.bytes, now),
    }));
    const waitRequests = meter.requests?.take(now) ?? 0;
    if (waitRequests > 0) throw refused(`token allows ${cap.rps} requests/s`, waitRequests);
    const waitBytes = meter.bytes?.takeOverdraft(now, bodyBytes) ?? 0;
    if (waitBytes > 0) throw refused(`token allows ${cap.bytes} body bytes/s`, waitBytes);
  }
}

function refused(what: string, waitMs: number): OapError {
  return new OapError("quota", `${what}; retry later`, {
    retryAfterMs: Math.min(RETRY_MAX_MS, Math.max(RETRY_MIN_MS, waitMs)),
  });
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a === b || Buffer.from(a.buffer, a.byteOffset, a.length).equals(b);
}
