import { OapError } from "@omnigate/oap";
import type { IncomingRequest, StreamTarget } from "@omnigate/sdk/internal";
import { ConnectionLimit } from "./connection-limit.js";
import { TenantInflight } from "./fairness.js";
import { type QuotaOptions, QuotaStage, type QuotaVerdict } from "./quota.js";
import { LoadReadiness } from "./readiness.js";
import type { AdmissionSnapshot } from "./snapshot.js";

export interface AdmissionOptions {
  maxConnections: number;
  /** 0 = no per-address limit. */
  maxConnectionsPerIp: number;
  /** Open streams across all connections. */
  maxInflight: number;
  /** Request and reply bytes buffered across all connections. */
  maxBufferedBytes: number;
  overloadRetryAfterMs: number;
  notReadyAtPct: number;
  readyAtPct: number;
  quota: QuotaOptions;
  /** Stage 3; absent or disabled = no capability check (auth.mode = "off"). */
  capability?: CapabilityCheck;
}

/** The capability check as the chain sees it (packages/node/src/auth/capability-stage.ts). */
export interface CapabilityCheck {
  readonly enabled: boolean;
  /** Throws the OapError (401/403/413, or 429 for a token's own rate) that refuses the request. */
  check(req: IncomingRequest, now: number): unknown;
}

/**
 * The admission chain, in the order every new stream meets it:
 *
 * 1. connection limits — on accept, before TLS (`connections`, used by the listener);
 * 2. the stream table — `max_inflight` per connection, enforced by the ServerSession;
 * 3. capability check — the request's capability (or its connection's), see auth/capability-stage.ts;
 * 4. quota — token buckets per (tenant, app);
 * 5. node-wide ceiling — open streams and buffered bytes, with fairness near the ceiling;
 * 6. route — the router, after `admit` returns.
 *
 * `admit` refuses by throwing (or rejecting with) an OapError, so every refusal reaches
 * the session's `rejected` hook like any other stream error. Each stream that reached
 * `admit` is counted open until the session reports it ended (`release`); a refused
 * stream ends at once, so the count follows the streams really open.
 */
export class AdmissionChain {
  readonly connections: ConnectionLimit;
  readonly quota: QuotaStage;
  readonly readiness: LoadReadiness;
  private readonly tenants: TenantInflight;
  private inflight = 0;
  private bufferedBytes = 0;
  private decisions = 0;
  private firstNotReadyDecision = 0;
  private firstOverloadedDecision = 0;
  private refusedInflight = 0;
  private refusedBuffered = 0;
  private refusedCapability = 0;

  constructor(private readonly options: AdmissionOptions) {
    this.connections = new ConnectionLimit(
      options.maxConnections,
      options.maxConnectionsPerIp,
      options.overloadRetryAfterMs,
    );
    this.quota = new QuotaStage(options.quota);
    // Entries for tenants with open streams never exceed the ceiling; idle ones are pruned past twice that.
    this.tenants = new TenantInflight(Math.max(1024, 2 * options.maxInflight));
    this.readiness = new LoadReadiness(
      options.maxInflight,
      options.maxBufferedBytes,
      options.notReadyAtPct,
      options.readyAtPct,
    );
  }

  /** Stages 3–5 for one new stream; returns (or resolves) when it may be routed. */
  admit(req: IncomingRequest): void | Promise<void> {
    const decision = ++this.decisions;
    this.inflight++;
    const held = this.tenants.enter(req.tenantId);
    this.updateReadiness(decision);

    // ── Stage 3: capability ──────────────────────────────────────────────────────────
    // Before any quota token is spent: an unauthenticated storm cannot drain a tenant's quota.
    const capability = this.options.capability;
    if (capability?.enabled) {
      try {
        capability.check(req, req.receivedAt);
      } catch (err) {
        this.refusedCapability++;
        throw err;
      }
    }

    // ── Stage 4: quota ───────────────────────────────────────────────────────────────
    if (this.quota.enabled) {
      const verdict = this.quota.check(req.tenantId, req.appProtoId, req.startBodyBytes, req.receivedAt);
      if (verdict instanceof Promise) return verdict.then((v) => this.afterQuota(v, held, decision));
      if (verdict) throw verdict;
    }

    // ── Stage 5: node-wide ceiling ───────────────────────────────────────────────────
    this.checkCeiling(held, decision);
  }

  /** A stream that reached `admit` ended (whatever its outcome). */
  release(target: StreamTarget): void {
    this.inflight--;
    this.tenants.leave(target.tenantId);
    this.readiness.update(this.inflight, this.bufferedBytes);
  }

  /** Continuation body bytes of an open stream, for byte quotas. */
  bodyReceived(target: StreamTarget, bytes: number): void {
    if (this.quota.enabled) this.quota.chargeBytes(target.tenantId, target.appProtoId, bytes, Date.now());
  }

  /** The latest total of bytes buffered across connections (sampled by the gateway's sweep). */
  setBufferedBytes(total: number): void {
    this.bufferedBytes = total;
    this.updateReadiness(this.decisions);
  }

  snapshot(): AdmissionSnapshot {
    return {
      ready: this.readiness.ready,
      not_ready_because: this.readiness.reasons(this.inflight, this.bufferedBytes),
      connections: this.connections.connections,
      max_connections: this.options.maxConnections,
      inflight: this.inflight,
      max_inflight: this.options.maxInflight,
      buffered_bytes: this.bufferedBytes,
      max_buffered_bytes: this.options.maxBufferedBytes,
      tenants_inflight: this.tenants.tenants,
      quota_buckets: this.quota.trackedBuckets,
      refused: {
        connections: this.connections.refused,
        capability: this.refusedCapability,
        quota: this.quota.refusedRequests,
        quota_bytes: this.quota.refusedBytes,
        fair_share: this.tenants.refused,
        inflight_ceiling: this.refusedInflight,
        buffered_ceiling: this.refusedBuffered,
      },
      quota_global_failures: this.quota.globalFailures,
      turned_not_ready: this.readiness.turnedNotReady,
      decisions: this.decisions,
      first_not_ready_decision: this.firstNotReadyDecision,
      first_overloaded_decision: this.firstOverloadedDecision,
    };
  }

  private afterQuota(verdict: QuotaVerdict, held: number, decision: number): void {
    if (verdict) throw verdict;
    this.checkCeiling(held, decision);
  }

  private checkCeiling(held: number, decision: number): void {
    const { maxInflight, maxBufferedBytes } = this.options;
    if (this.inflight > maxInflight) {
      this.refusedInflight++;
      throw this.overloaded(decision, `the node has ${maxInflight} streams open, its ceiling`);
    }
    if (this.bufferedBytes >= maxBufferedBytes) {
      this.refusedBuffered++;
      throw this.overloaded(decision, "the node is holding as many buffered bytes as it may");
    }
    // Past the mark where the node turned not ready, the tenant holding more than its share
    // is refused before anyone else (so /readyz has always said 503 before any `overloaded`).
    if (this.inflight > this.readiness.nearCeiling && this.tenants.overShare(held, maxInflight)) {
      this.tenants.refused++;
      throw this.overloaded(
        decision,
        "the node is near its ceiling and this tenant holds more than its share",
      );
    }
  }

  private overloaded(decision: number, why: string): OapError {
    if (this.firstOverloadedDecision === 0) this.firstOverloadedDecision = decision;
    return new OapError("overloaded", `${why}; retry later or on another node`, {
      retryAfterMs: this.options.overloadRetryAfterMs,
    });
  }

  private updateReadiness(decision: number): void {
    if (this.readiness.update(this.inflight, this.bufferedBytes) && this.firstNotReadyDecision === 0) {
      this.firstNotReadyDecision = decision;
    }
  }
}
