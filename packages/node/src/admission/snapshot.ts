/** What admission looks like right now: read by /readyz, and by the status page later. */
export interface AdmissionSnapshot {
  ready: boolean;
  /** What keeps the node not ready because of load: "inflight", "buffered_bytes". */
  not_ready_because: string[];
  connections: number;
  max_connections: number;
  inflight: number;
  max_inflight: number;
  buffered_bytes: number;
  max_buffered_bytes: number;
  /** Tenants with open streams. */
  tenants_inflight: number;
  /** Quota buckets held (bounded by quotas.max_tenants). */
  quota_buckets: number;
  /** Refusals since start, by admission stage. */
  refused: {
    connections: number;
    /** Refused by the capability check (401/403/413, and a token's own rps/bytes limit). */
    capability: number;
    quota: number;
    quota_bytes: number;
    fair_share: number;
    inflight_ceiling: number;
    buffered_ceiling: number;
  };
  /** Global (Redis) quota checks that failed or timed out and fell back to the local bucket. */
  quota_global_failures: number;
  /** Times load made the node not ready. */
  turned_not_ready: number;
  /** Admission decisions so far (one per stream that reached the chain). */
  decisions: number;
  /** Decision number at which load first made the node not ready (0 = never). */
  first_not_ready_decision: number;
  /** Decision number of the first 503 `overloaded` (0 = none yet). */
  first_overloaded_decision: number;
}
