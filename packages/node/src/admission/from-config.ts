import type { IncomingRequest, ResponseWriter } from "@omnigate/sdk";
import { context } from "@opentelemetry/api";
import type { NodeConfig } from "../config/index.js";
import type { Logger } from "../log.js";
import { inSpan } from "../tracing/spans.js";
import { AdmissionChain, type CapabilityCheck } from "./chain.js";
import type { RedisBuckets } from "./redis-buckets.js";

export interface NodeAdmission {
  chain: AdmissionChain;
  /** Wraps the router's dispatch so every stream passes the chain first (synchronously unless a global quota is asked). */
  guard(
    route: (req: IncomingRequest, res: ResponseWriter) => void | Promise<void>,
  ): (req: IncomingRequest, res: ResponseWriter) => void | Promise<void>;
  /**
   * guard() for a traced request (run inside its SERVER span): `admit` and `route` each run
   * under a child span, `omnigate.admission` and `omnigate.dispatch`.
   */
  tracedGuard(
    route: (req: IncomingRequest, res: ResponseWriter) => void | Promise<void>,
  ): (req: IncomingRequest, res: ResponseWriter) => void | Promise<void>;
  close(): Promise<void>;
}

/** How often a failing global quota store is logged at most. */
const GLOBAL_FAILURE_LOG_MS = 10_000;

/** How long a starting node waits for the global quota store before serving with local buckets. */
const REDIS_CONNECT_WAIT_MS = 5_000;

/** The node's admission chain from its config; with a quota Redis, resolves once it is connected (or given up on). */
export async function createAdmission(
  config: NodeConfig,
  log: Logger,
  capability?: CapabilityCheck,
): Promise<NodeAdmission> {
  // ioredis is loaded only by nodes that use it.
  let redis: RedisBuckets | undefined;
  if (config.quotaRedisUrl) {
    const { RedisBuckets } = await import("./redis-buckets.js");
    redis = new RedisBuckets(config.quotaRedisUrl, config.quotaRedisKeyPrefix);
  }
  if (redis && !(await redis.connected(REDIS_CONNECT_WAIT_MS))) {
    log.warn({ redis: config.quotaRedisUrl }, "quota Redis not reachable yet; local buckets until it is");
  }
  let lastFailureLog = 0;
  const chain = new AdmissionChain({
    maxConnections: config.maxConnections,
    maxConnectionsPerIp: config.maxConnectionsPerIp,
    maxInflight: config.nodeMaxInflight,
    maxBufferedBytes: config.nodeMaxBufferedBytes,
    overloadRetryAfterMs: config.overloadRetryAfterMs,
    notReadyAtPct: config.notReadyAtPct,
    readyAtPct: config.readyAtPct,
    ...(capability ? { capability } : {}),
    quota: {
      rules: config.quotaRules,
      maxTenants: config.quotaMaxTenants,
      retryMinMs: config.quotaRetryMinMs,
      retryMaxMs: config.quotaRetryMaxMs,
      global: redis,
      globalTimeoutMs: config.quotaRedisTimeoutMs,
      onGlobalFailure: (err) => {
        const now = Date.now();
        if (now - lastFailureLog < GLOBAL_FAILURE_LOG_MS) return;
        lastFailureLog = now;
        log.warn({ err: err.message }, "global quota check failed; using this node's buckets");
      },
    },
  });
  return {
    chain,
    guard: (route) => (req, res) => {
      const admitted = chain.admit(req);
      return admitted ? admitted.then(() => route(req, res)) : route(req, res);
    },
    tracedGuard: (route) => (req, res) => {
      const admitted = inSpan("omnigate.admission", undefined, () => chain.admit(req));
      const dispatch = () => inSpan("omnigate.dispatch", undefined, () => route(req, res));
      if (!admitted) return dispatch();
      // The SERVER span's context, also without a context manager that follows promises.
      const traced = context.active();
      return admitted.then(() => context.with(traced, dispatch));
    },
    close: async () => {
      await redis?.close();
    },
  };
}
