import { createHash } from "node:crypto";
import { type CaveatRule, formatAppId, formatTenant, parseCaveat } from "./caveats.js";
import { CapError } from "./errors.js";
import { decodeV2 } from "./format-v2.js";
import { chainSignature, constantTimeEqual } from "./hmac.js";
import { decodeIdentifier } from "./identifier.js";
import { DEFAULT_SKEW_SECONDS } from "./limits.js";

/** Root keys by id. A retired key is simply absent. */
export interface KeySource {
  /**
   * The root key with this id, or undefined when it is unknown or retired as of `atMs`
   * (Date.now() when absent).
   */
  get(keyId: string, atMs?: number): Uint8Array | undefined;
}

/** Answers whether a verified token has been revoked (by its id or its tenant's epoch). */
export interface RevocationCheck {
  /** True when the token's id, or its tenant's epoch, has been revoked. */
  isRevoked(token: { tokenId: string; tenant: bigint; epoch: number }): boolean;
}

/** What one request wants to do. */
export interface CapContext {
  /** The tenant the request acts for; must be the token's. */
  tenant: bigint;
  /** The app_proto_id the request calls, checked against an `apps` caveat. */
  app: number;
  /** e.g. `mailbox.send`; requests without an op fail an `ops` caveat (fail closed). */
  op?: string;
  /** Topic the request touches; requests without one fail a `topics` caveat. */
  topic?: string;
}

/** A token whose MAC checked out, with its caveats parsed: what the cache holds. */
export interface VerifiedCap {
  /** The root key id the token was signed under. */
  keyId: string;
  /** The token's id, as revocation by id names it. */
  tokenId: string;
  /** The tenant epoch the token was minted in. */
  epoch: number;
  /** The tenant of the token's tenant caveat. */
  tenant: bigint;
  /** Every caveat, parsed, in order. */
  rules: CaveatRule[];
  /** Tightest `rps <=` / `bytes <=` caveats, for the quota stage; undefined when none. */
  rps: number | undefined;
  /** Tightest `bytes <=` caveat (bytes per second), for the quota stage; undefined when none. */
  bytes: number | undefined;
  /** Earliest `expires` caveat, Unix seconds; undefined when the token does not expire. */
  expiresAt: number | undefined;
}

/** How a CapVerifier finds root keys and revocations, and how it caches and keeps time. */
export interface VerifierOptions {
  /** The root keys tokens may be signed under. */
  keys: KeySource;
  /** Consulted on every check, cached or not; without it nothing counts as revoked. */
  revocations?: RevocationCheck;
  /** Tokens whose MAC checked out, by SHA-256 of their bytes (LRU). Default 10,000. */
  cacheSize?: number;
  /** Clock skew tolerated on `expires` and `not-before` (default DEFAULT_SKEW_SECONDS). */
  skewSeconds?: number;
  /** Unix seconds; injectable for tests of expiry. */
  now?: () => number;
}

/**
 * Verifies tokens for requests. The expensive part (parse + HMAC chain) is cached by the
 * token's hash; the per-request part (key still valid, revocation, time, tenant, app, op,
 * topic) runs every time, so a revocation or a key retirement takes effect at once without
 * touching the cache.
 */
export class CapVerifier {
  private readonly cache = new Map<string, VerifiedCap>();
  private readonly cacheSize: number;
  private readonly skew: number;
  private readonly now: () => number;

  constructor(private readonly options: VerifierOptions) {
    this.cacheSize = options.cacheSize ?? 10_000;
    this.skew = options.skewSeconds ?? DEFAULT_SKEW_SECONDS;
    this.now = options.now ?? (() => Math.floor(Date.now() / 1000));
  }

  /**
   * Verifies `token` for `ctx`; throws CapError with the refusal reason. `atMs` is the
   * request's time (Date.now() units) when the caller has read the clock already.
   */
  verify(token: Uint8Array | undefined, ctx: CapContext, atMs?: number): VerifiedCap {
    if (!token || token.byteLength === 0) throw new CapError("unauthenticated", "no capability presented");
    const cap = this.authenticate(token);
    this.check(cap, ctx, false, atMs);
    return cap;
  }

  /** MAC and grammar only (cached); the caller still has to authorize. */
  authenticate(token: Uint8Array): VerifiedCap {
    const key = createHash("sha256").update(token).digest("base64");
    const hit = this.cache.get(key);
    if (hit) {
      // Refresh recency: Map iteration order is insertion order, so the first entry is the LRU.
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit;
    }
    const cap = authenticateToken(token, this.options.keys);
    this.cache.set(key, cap);
    if (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value as string);
    return cap;
  }

  /** Checks a verified token against one request (at `atMs`, as for verify). */
  authorize(cap: VerifiedCap, ctx: CapContext, atMs?: number): void {
    this.check(cap, ctx, false, atMs);
  }

  /**
   * The checks that do not depend on what a request does: key still valid, not revoked,
   * inside its time window, and bound to `tenant`. What a connection-level binding (HELLO)
   * needs; apps, ops and topics are then checked on each request.
   */
  checkIdentity(cap: VerifiedCap, tenant: bigint): void {
    this.check(cap, { tenant, app: -1 }, true, undefined);
  }

  private check(cap: VerifiedCap, ctx: CapContext, identityOnly: boolean, at: number | undefined): void {
    // A time that is not a finite number would pass every comparison with it: read the clock.
    const atMs = at !== undefined && Number.isFinite(at) ? at : undefined;
    if (!this.options.keys.get(cap.keyId, atMs)) {
      throw new CapError(
        "unauthenticated",
        `token was signed by key ${cap.keyId}, which is retired or unknown`,
      );
    }
    if (this.options.revocations?.isRevoked(cap)) {
      throw new CapError("cap_revoked", `token ${cap.tokenId} has been revoked`);
    }
    const now = atMs === undefined ? this.now() : Math.floor(atMs / 1000);
    for (const rule of cap.rules) {
      if (identityOnly && (rule.kind === "apps" || rule.kind === "ops" || rule.kind === "topics")) continue;
      checkRule(rule, ctx, now, this.skew);
    }
  }

  /** Forgets every cached token: each is parsed and MAC-checked again on its next use. */
  clearCache(): void {
    this.cache.clear();
  }

  /** How many verified tokens the cache holds now. */
  get cachedTokens(): number {
    return this.cache.size;
  }
}

/** Parses a token and checks its HMAC chain against its root key (no cache, no context). */
export function authenticateToken(token: Uint8Array, keys: KeySource): VerifiedCap {
  const m = decodeV2(token);
  if (m.caveats.some((c) => c.vid)) {
    throw new CapError("unauthenticated", "third-party caveats are not accepted by this node");
  }
  const id = decodeIdentifier(m.identifier);
  const rootKey = keys.get(id.keyId);
  if (!rootKey)
    throw new CapError("unauthenticated", `token names key ${id.keyId}, which is retired or unknown`);
  const expected = chainSignature(
    rootKey,
    m.identifier,
    m.caveats.map((c) => c.id),
  );
  if (!constantTimeEqual(expected, m.signature)) {
    throw new CapError("unauthenticated", "token signature does not verify");
  }
  // Parsed only after the MAC: an unauthenticated sender learns nothing about the grammar.
  const rules = m.caveats.map((c) => parseCaveat(Buffer.from(c.id).toString("utf8")));
  const tenant = rules.find((r) => r.kind === "tenant");
  if (!tenant) throw new CapError("forbidden", "token is not bound to a tenant (no tenant caveat)");
  return {
    ...id,
    tenant: tenant.tenant,
    rules,
    rps: tightest(rules, "rps"),
    bytes: tightest(rules, "bytes"),
    expiresAt: rules.reduce<number | undefined>(
      (at, r) => (r.kind === "expires" ? Math.min(at ?? r.at, r.at) : at),
      undefined,
    ),
  };
}

function checkRule(rule: CaveatRule, ctx: CapContext, now: number, skew: number): void {
  switch (rule.kind) {
    case "tenant":
      if (rule.tenant !== ctx.tenant) {
        throw new CapError(
          "tenant_mismatch",
          `token is for tenant ${formatTenant(rule.tenant)}, the request names ${formatTenant(ctx.tenant)}`,
        );
      }
      return;
    case "apps":
      if (!rule.apps.includes(ctx.app)) {
        throw new CapError("forbidden", `token does not allow app ${formatAppId(ctx.app)}`);
      }
      return;
    case "ops":
      if (ctx.op === undefined || !rule.ops.includes(ctx.op)) {
        throw new CapError("forbidden", `token does not allow op ${ctx.op ?? "(none named)"}`);
      }
      return;
    case "topics":
      if (ctx.topic === undefined || !ctx.topic.startsWith(rule.prefix)) {
        throw new CapError(
          "forbidden",
          `token is limited to topics starting with ${JSON.stringify(rule.prefix)}`,
        );
      }
      return;
    case "expires":
      if (now - skew >= rule.at) throw new CapError("cap_expired", `token expired at ${iso(rule.at)}`);
      return;
    case "not-before":
      if (now + skew < rule.at)
        throw new CapError("cap_expired", `token is not valid before ${iso(rule.at)}`);
      return;
    case "rps":
    case "bytes":
      return; // limits, applied by the quota stage
  }
}

function tightest(rules: CaveatRule[], kind: "rps" | "bytes"): number | undefined {
  let max: number | undefined;
  for (const r of rules) if (r.kind === kind) max = Math.min(max ?? r.max, r.max);
  return max;
}

function iso(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}
