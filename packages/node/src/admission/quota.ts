import { formatAppProtoId, OapError } from "@omnigate/oap";
import type { QuotaRules, RateRule } from "../config/quota-rules.js";
import { BoundedLru } from "../util/bounded-lru.js";
import { TokenBucket } from "../util/token-bucket.js";
import { withTimeout } from "../util/with-timeout.js";

/** Request buckets shared by several nodes (Redis); `take` resolves with 0 or the ms until a token. */
export interface GlobalBuckets {
  take(key: string, ratePerSec: number, burst: number): Promise<number>;
}

export interface QuotaOptions {
  rules: QuotaRules;
  /** Buckets kept at most (LRU). */
  maxTenants: number;
  /** Bounds on retry_after_ms of a 429 `quota`. */
  retryMinMs: number;
  retryMaxMs: number;
  global?: GlobalBuckets | undefined;
  /** A global check that has not answered in this long falls back to the local bucket. */
  globalTimeoutMs?: number;
  /** A global check failed or timed out (logged by the node). */
  onGlobalFailure?: (error: Error) => void;
}

interface TenantBuckets {
  requests: TokenBucket;
  bytes: TokenBucket | undefined;
}

export type QuotaVerdict = OapError | undefined;

/**
 * Token buckets per (tenant, app_proto_id): a request bucket (rate + burst) and an optional
 * byte bucket, from the app's rule or the tenant's override. Apps without a rule cost one
 * map lookup. An empty bucket answers 429 `quota` with retry_after_ms = the time until the
 * next token, kept within the configured bounds.
 */
export class QuotaStage {
  private readonly appRules: Map<number, RateRule>;
  private readonly overrides = new Map<string, RateRule>();
  /** Apps some tenant has an override for: only those need the per-tenant lookup. */
  private readonly overriddenApps = new Set<number>();
  private readonly buckets: BoundedLru<string, TenantBuckets>;
  /** Some app or tenant has a rule: without one, admission skips this stage. */
  readonly enabled: boolean;
  refusedRequests = 0;
  refusedBytes = 0;
  globalFailures = 0;

  constructor(private readonly options: QuotaOptions) {
    this.appRules = options.rules.apps;
    for (const o of options.rules.tenants) {
      this.overrides.set(bucketKey(o.tenant, o.app), o.rule);
      this.overriddenApps.add(o.app);
    }
    this.buckets = new BoundedLru(options.maxTenants);
    this.enabled = this.appRules.size > 0 || this.overriddenApps.size > 0;
  }

  /** Buckets held now (bounded by max_tenants). */
  get trackedBuckets(): number {
    return this.buckets.size;
  }

  /** Spends a request token (and `bodyBytes` byte tokens) or refuses; a Promise only with global buckets. */
  check(tenant: bigint, app: number, bodyBytes: number, now: number): QuotaVerdict | Promise<QuotaVerdict> {
    const found = this.lookup(tenant, app);
    if (!found) return undefined;
    const { key, rule } = found;
    const local = this.bucketsFor(key, rule, now);
    if (local.bytes) {
      const wait = local.bytes.takeOverdraft(now, bodyBytes);
      if (wait > 0) return this.refuse("bytes", app, rule, wait);
    }
    const global = this.options.global;
    if (global) return this.checkGlobal(global, key, app, rule, local, now);
    const wait = local.requests.take(now);
    return wait > 0 ? this.refuse("requests", app, rule, wait) : undefined;
  }

  /** Continuation body bytes of an admitted stream: charged now, repaid by later requests. */
  chargeBytes(tenant: bigint, app: number, bytes: number, now: number): void {
    const found = this.lookup(tenant, app);
    if (!found?.rule.bytesPerSec) return;
    this.bucketsFor(found.key, found.rule, now).bytes?.charge(now, bytes);
  }

  private lookup(tenant: bigint, app: number): { key: string; rule: RateRule } | undefined {
    const appRule = this.appRules.get(app);
    if (!appRule && !this.overriddenApps.has(app)) return undefined;
    const key = bucketKey(tenant, app);
    const rule = (this.overriddenApps.has(app) && this.overrides.get(key)) || appRule;
    return rule ? { key, rule } : undefined;
  }

  private bucketsFor(key: string, rule: RateRule, now: number): TenantBuckets {
    return this.buckets.getOrCreate(key, () => ({
      requests: new TokenBucket(rule.rate, rule.burst, now),
      bytes:
        rule.bytesPerSec === undefined
          ? undefined
          : new TokenBucket(rule.bytesPerSec, rule.bytesBurst ?? rule.bytesPerSec, now),
    }));
  }

  private async checkGlobal(
    global: GlobalBuckets,
    key: string,
    app: number,
    rule: RateRule,
    local: TenantBuckets,
    now: number,
  ): Promise<QuotaVerdict> {
    let wait: number;
    try {
      const ms = this.options.globalTimeoutMs ?? 200;
      wait = await withTimeout(
        global.take(key, rule.rate, rule.burst),
        ms,
        () => new Error(`no answer within ${ms} ms`),
      );
    } catch (err) {
      // Redis away or slow: this node's own bucket keeps the tenant within its rate here.
      this.globalFailures++;
      this.options.onGlobalFailure?.(err as Error);
      wait = local.requests.take(now);
    }
    return wait > 0 ? this.refuse("requests", app, rule, wait) : undefined;
  }

  private refuse(kind: "requests" | "bytes", app: number, rule: RateRule, waitMs: number): OapError {
    const retryAfterMs = Math.min(this.options.retryMaxMs, Math.max(this.options.retryMinMs, waitMs));
    const limit =
      kind === "requests"
        ? `${rule.rate} requests/s, burst ${rule.burst}`
        : `${rule.bytesPerSec} body bytes/s`;
    if (kind === "requests") this.refusedRequests++;
    else this.refusedBytes++;
    return new OapError("quota", `quota for app ${formatAppProtoId(app)} exhausted (${limit}); retry later`, {
      retryAfterMs,
    });
  }
}

function bucketKey(tenant: bigint, app: number): string {
  return `${app}:${tenant}`;
}
