import { DEFAULT_MAX_CAP_LEN, DEFAULT_MAX_FRAME, DEFAULT_MAX_INFLIGHT } from "@omnigate/oap";
import { DEFAULT_SESSION_LIMITS } from "@omnigate/sdk";
import { defaultDataDir } from "./data-dir.js";
import type { QuotaRules } from "./quota-rules.js";

/** Every node setting, its default and its bounds: the one place defaults live. */
export interface NodeConfig {
  listen: string;
  wsListen: string;
  wsAllowedOrigins: string;
  admin: string;
  dataDir: string;
  tlsCert: string;
  tlsKey: string;
  nodeId: string;
  maxFrame: number;
  maxInflight: number;
  maxCapLen: number;
  readBufferBytes: number;
  writeBufferBytes: number;
  defaultDeadlineMs: number;
  maxDeadlineMs: number;
  handshakeTimeoutMs: number;
  drainTimeoutMs: number;
  busCapacity: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
  crashLimit: number;
  crashWindowMs: number;
  quarantineMs: number;
  serviceStartTimeoutMs: number;
  statusRefreshMs: number;
  logLevel: string;
  authMode: string;
  authKeyGraceMs: number;
  authSkewSeconds: number;
  authRedisUrl: string;
  authDevCapTtlSeconds: number;
  registryFile: string;
  maxConnections: number;
  maxConnectionsPerIp: number;
  nodeMaxInflight: number;
  nodeMaxBufferedBytes: number;
  overloadRetryAfterMs: number;
  firstHeaderTimeoutMs: number;
  frameTimeoutMs: number;
  idleTimeoutMs: number;
  writeStallTimeoutMs: number;
  compMaxOutputBytes: number;
  compMaxRatio: number;
  compRatioGraceBytes: number;
  notReadyAtPct: number;
  readyAtPct: number;
  quotaMaxTenants: number;
  quotaRetryMinMs: number;
  quotaRetryMaxMs: number;
  quotaRedisUrl: string;
  quotaRedisKeyPrefix: string;
  quotaRedisTimeoutMs: number;
  mailboxEngine: string;
  mailboxSqliteSync: string;
  mailboxRedisUrl: string;
  mailboxRedisKeyPrefix: string;
  mailboxDedupeWindowMs: number;
  mailboxVisibilityMs: number;
  mailboxMinVisibilityMs: number;
  mailboxMaxVisibilityMs: number;
  mailboxMaxAttempts: number;
  mailboxMaxDepth: number;
  mailboxMaxBodyBytes: number;
  mailboxMaxRecv: number;
  mailboxMaxWaitMs: number;
  mailboxTopicPattern: string;
  mailboxMaxTopicLength: number;
  storageEngine: string;
  storageMaxObjectBytes: number;
  storageChunkBytes: number;
  storageMemoryMaxBytes: number;
  /** Per-app quotas and per-tenant overrides: TOML tables only (`[quotas.apps."0x0101"]`, `[[quotas.tenants]]`). */
  quotaRules: QuotaRules;
}

/** The scalar settings: each has a file key, a flag and an env name. */
export type ConfigKey = Exclude<keyof NodeConfig, "quotaRules">;

interface BaseEntry {
  /** Dotted key in the TOML file. The flag drops a `limits.` prefix (--max-inflight); env is OMNIGATE_ + the flag in upper snake. */
  file: string;
  doc: string;
}
interface StringEntry extends BaseEntry {
  kind: "string" | "address" | "optional_address" | "path";
  default: () => string;
  choices?: readonly string[];
}
interface IntEntry extends BaseEntry {
  kind: "int";
  default: () => number;
  min: number;
  max: number;
}
export type ConfigEntry = StringEntry | IntEntry;

export const CONFIG_SCHEMA: { [K in ConfigKey]: ConfigEntry } = {
  listen: {
    file: "listen",
    kind: "address",
    default: () => "127.0.0.1:9443",
    doc: "OAP/1-over-TLS listen address, host:port",
  },
  wsListen: {
    file: "ws.listen",
    kind: "optional_address",
    default: () => "127.0.0.1:9444",
    doc: "OAP/1-over-WebSocket (wss://host:port/oap) listen address, host:port; empty = no WebSocket listener",
  },
  wsAllowedOrigins: {
    file: "ws.allowed_origins",
    kind: "string",
    default: () => "",
    doc: "comma-separated origins (https://app.example:8443) whose pages may open a WebSocket; empty = same host only, * = any",
  },
  admin: {
    file: "admin",
    kind: "address",
    default: () => "127.0.0.1:9600",
    doc: "admin HTTP listen address (/healthz, /readyz, /metrics, /status), host:port",
  },
  dataDir: {
    file: "data_dir",
    kind: "path",
    default: defaultDataDir,
    doc: "directory for the node's state (dev certificates, node id, engines)",
  },
  tlsCert: {
    file: "tls.cert",
    kind: "path",
    default: () => "",
    doc: "PEM certificate chain; empty = a dev CA and certificate created in the data dir",
  },
  tlsKey: { file: "tls.key", kind: "path", default: () => "", doc: "PEM private key for tls.cert" },
  nodeId: {
    file: "node_id",
    kind: "string",
    default: () => "",
    doc: "node id reported in HELLO; empty = generated once and kept in the data dir",
  },
  maxFrame: {
    file: "limits.max_frame",
    kind: "int",
    default: () => DEFAULT_MAX_FRAME,
    min: 4096,
    max: DEFAULT_MAX_FRAME,
    doc: "largest frame accepted or sent, header included (bytes)",
  },
  maxInflight: {
    file: "limits.max_inflight",
    kind: "int",
    default: () => DEFAULT_MAX_INFLIGHT,
    min: 1,
    max: 65_536,
    doc: "open streams allowed per connection",
  },
  maxCapLen: {
    file: "limits.max_cap_len",
    kind: "int",
    default: () => DEFAULT_MAX_CAP_LEN,
    min: 0,
    max: 65_535,
    doc: "largest capability accepted on a START frame (bytes)",
  },
  readBufferBytes: {
    file: "limits.read_buffer_bytes",
    kind: "int",
    default: () => DEFAULT_SESSION_LIMITS.readBufferBytes,
    min: 64 * 1024,
    max: 1024 * 1024 * 1024,
    doc: "request body bytes (plus per-chunk overhead) buffered per connection before reading pauses",
  },
  writeBufferBytes: {
    file: "limits.write_buffer_bytes",
    kind: "int",
    default: () => DEFAULT_SESSION_LIMITS.writeBufferBytes,
    min: 64 * 1024,
    max: 1024 * 1024 * 1024,
    doc: "reply bytes queued for a client that is not reading before its requests stop being read",
  },
  defaultDeadlineMs: {
    file: "limits.default_deadline_ms",
    kind: "int",
    default: () => DEFAULT_SESSION_LIMITS.defaultDeadlineMs,
    min: 1,
    max: 3_600_000,
    doc: "deadline for requests whose meta names none (ms)",
  },
  maxDeadlineMs: {
    file: "limits.max_deadline_ms",
    kind: "int",
    default: () => DEFAULT_SESSION_LIMITS.maxDeadlineMs,
    min: 1,
    max: 86_400_000,
    doc: "ceiling on any deadline a request asks for (ms)",
  },
  handshakeTimeoutMs: {
    file: "limits.handshake_timeout_ms",
    kind: "int",
    default: () => 10_000,
    min: 100,
    max: 120_000,
    doc: "time a client has to finish the TLS handshake (ms)",
  },
  drainTimeoutMs: {
    file: "drain_timeout_ms",
    kind: "int",
    default: () => 10_000,
    min: 0,
    max: 600_000,
    doc: "on SIGTERM/SIGINT, how long in-flight streams may take to finish (ms)",
  },
  busCapacity: {
    file: "kernel.bus_capacity",
    kind: "int",
    default: () => 1024,
    min: 1,
    max: 1_048_576,
    doc: "kernel events queued per bus subscriber; past it the oldest is dropped (bus_overflow_dropped_total)",
  },
  backoffInitialMs: {
    file: "supervisor.backoff_initial_ms",
    kind: "int",
    default: () => 100,
    min: 1,
    max: 60_000,
    doc: "delay before a crashed service's first restart; doubles per crash, jittered (ms)",
  },
  backoffMaxMs: {
    file: "supervisor.backoff_max_ms",
    kind: "int",
    default: () => 30_000,
    min: 1,
    max: 3_600_000,
    doc: "ceiling on the restart delay of a crashed service (ms)",
  },
  crashLimit: {
    file: "supervisor.crash_limit",
    kind: "int",
    default: () => 5,
    min: 1,
    max: 1_000,
    doc: "a service that crashes more often than this within supervisor.crash_window_ms is quarantined",
  },
  crashWindowMs: {
    file: "supervisor.crash_window_ms",
    kind: "int",
    default: () => 60_000,
    min: 1_000,
    max: 86_400_000,
    doc: "window over which a service's crashes are counted (ms)",
  },
  quarantineMs: {
    file: "supervisor.quarantine_ms",
    kind: "int",
    default: () => 300_000,
    min: 1_000,
    max: 86_400_000,
    doc: "how long a quarantined service stays down before one more restart (ms)",
  },
  serviceStartTimeoutMs: {
    file: "supervisor.start_timeout_ms",
    kind: "int",
    default: () => 10_000,
    min: 100,
    max: 600_000,
    doc: "time a service's start() or stop() may take; a start() that takes longer is a crash (ms)",
  },
  statusRefreshMs: {
    file: "status_refresh_ms",
    kind: "int",
    default: () => 1_000,
    min: 100,
    max: 60_000,
    doc: "how often the /status page refreshes its numbers from /status.json (ms)",
  },
  authMode: {
    file: "auth.mode",
    kind: "string",
    default: () => "on",
    choices: ["on", "off"],
    doc: 'capability checks on every request; "off" is for local experiments only and logs a warning at start',
  },
  authKeyGraceMs: {
    file: "auth.key_grace_ms",
    kind: "int",
    default: () => 600_000,
    min: 0,
    max: 30 * 86_400_000,
    doc: "after a root key rotation, how long tokens under the old key keep working (ms)",
  },
  authSkewSeconds: {
    file: "auth.skew_s",
    kind: "int",
    default: () => 60,
    min: 0,
    max: 3_600,
    doc: "clock skew tolerated on a token's expires and not-before caveats (s)",
  },
  authRedisUrl: {
    file: "auth.redis_url",
    kind: "string",
    default: () => "",
    doc: "Redis that shares revocations between nodes (pub/sub); empty = this node only",
  },
  authDevCapTtlSeconds: {
    file: "auth.dev_cap_ttl_s",
    kind: "int",
    default: () => 30 * 86_400,
    min: 60,
    max: 365 * 86_400,
    doc: "lifetime of the dev capability a node mints for tenant 0 and prints at start (s)",
  },
  logLevel: {
    file: "log_level",
    kind: "string",
    default: () => "info",
    choices: ["trace", "debug", "info", "warn", "error", "fatal", "silent"],
    doc: "log level",
  },
  registryFile: {
    file: "registry_file",
    kind: "path",
    default: () => "",
    doc: "app registry listing the ids [[apps]] may route (0x1000-0xEFFF); empty = registry/app_proto_ids.json shipped with the node",
  },
  maxConnections: {
    file: "limits.max_connections",
    kind: "int",
    default: () => 8192,
    min: 1,
    max: 1_000_000,
    doc: "client connections open at once, TLS handshakes included; more are closed on accept",
  },
  maxConnectionsPerIp: {
    file: "limits.max_connections_per_ip",
    kind: "int",
    default: () => 0,
    min: 0,
    max: 1_000_000,
    doc: "client connections open at once from one IP address; 0 = no per-address limit",
  },
  nodeMaxInflight: {
    file: "limits.node_max_inflight",
    kind: "int",
    default: () => 4096,
    min: 1,
    max: 10_000_000,
    doc: "open streams across all connections; a START beyond it gets 503 overloaded",
  },
  nodeMaxBufferedBytes: {
    file: "limits.node_max_buffered_bytes",
    kind: "int",
    default: () => 256 * 1024 * 1024,
    min: 1024 * 1024,
    max: 64 * 1024 * 1024 * 1024,
    doc: "request and reply bytes buffered across all connections above which new streams get 503 overloaded",
  },
  overloadRetryAfterMs: {
    file: "limits.overload_retry_after_ms",
    kind: "int",
    default: () => 1_000,
    min: 0,
    max: 60_000,
    doc: "retry_after_ms on 503 overloaded (ms)",
  },
  firstHeaderTimeoutMs: {
    file: "limits.first_header_timeout_ms",
    kind: "int",
    default: () => DEFAULT_SESSION_LIMITS.firstHeaderTimeoutMs,
    min: 100,
    max: 600_000,
    doc: "time a client has after the TLS handshake to send its first complete frame header (ms)",
  },
  frameTimeoutMs: {
    file: "limits.frame_timeout_ms",
    kind: "int",
    default: () => DEFAULT_SESSION_LIMITS.frameTimeoutMs,
    min: 100,
    max: 600_000,
    doc: "time a frame may take to arrive once its first byte has (slow-loris bound, ms)",
  },
  idleTimeoutMs: {
    file: "limits.idle_timeout_ms",
    kind: "int",
    default: () => DEFAULT_SESSION_LIMITS.idleTimeoutMs,
    min: 100,
    max: 86_400_000,
    doc: "a connection with no open stream that receives nothing for this long is closed (ms)",
  },
  compMaxOutputBytes: {
    file: "limits.comp_max_output_bytes",
    kind: "int",
    default: () => DEFAULT_SESSION_LIMITS.compMaxOutputBytes,
    min: 1024,
    max: 1024 * 1024 * 1024,
    doc: "hard cap on one COMP request body once inflated; beyond it 413 decompress_cap (bytes)",
  },
  compMaxRatio: {
    file: "limits.comp_max_ratio",
    kind: "int",
    default: () => DEFAULT_SESSION_LIMITS.compMaxRatio,
    min: 1,
    max: 100_000,
    doc: "largest inflated ÷ compressed size of a COMP body; beyond it 413 ratio_cap",
  },
  compRatioGraceBytes: {
    file: "limits.comp_ratio_grace_bytes",
    kind: "int",
    default: () => DEFAULT_SESSION_LIMITS.compRatioGraceBytes,
    min: 0,
    max: 1024 * 1024 * 1024,
    doc: "inflated bytes of a COMP body below which the ratio cap does not apply",
  },
  writeStallTimeoutMs: {
    file: "limits.write_stall_timeout_ms",
    kind: "int",
    default: () => DEFAULT_SESSION_LIMITS.writeStallTimeoutMs,
    min: 100,
    max: 600_000,
    doc: "a client that leaves more than write_buffer_bytes of replies unread for this long is disconnected (ms)",
  },
  notReadyAtPct: {
    file: "readiness.not_ready_at_pct",
    kind: "int",
    default: () => 85,
    min: 1,
    max: 100,
    doc: "/readyz turns 503 when in-flight streams or buffered bytes reach this % of their node ceiling",
  },
  readyAtPct: {
    file: "readiness.ready_at_pct",
    kind: "int",
    default: () => 70,
    min: 0,
    max: 99,
    doc: "/readyz turns 200 again once both are below this % (hysteresis)",
  },
  quotaMaxTenants: {
    file: "quotas.max_tenants",
    kind: "int",
    default: () => 100_000,
    min: 1,
    max: 10_000_000,
    doc: "quota buckets kept per node, least recently used evicted first",
  },
  quotaRetryMinMs: {
    file: "quotas.retry_after_min_ms",
    kind: "int",
    default: () => 1_000,
    min: 0,
    max: 600_000,
    doc: "least retry_after_ms on 429 quota, even when the next token comes sooner (ms)",
  },
  quotaRetryMaxMs: {
    file: "quotas.retry_after_max_ms",
    kind: "int",
    default: () => 5_000,
    min: 1,
    max: 600_000,
    doc: "most retry_after_ms on 429 quota, even when the next token comes later (ms)",
  },
  quotaRedisUrl: {
    file: "quotas.redis_url",
    kind: "string",
    default: () => "",
    doc: "redis://host:port shared by several nodes for global request quotas; empty = quotas are per node",
  },
  quotaRedisKeyPrefix: {
    file: "quotas.redis_key_prefix",
    kind: "string",
    default: () => "omnigate:quota:",
    doc: "prefix of the Redis keys holding global quota buckets",
  },
  quotaRedisTimeoutMs: {
    file: "quotas.redis_timeout_ms",
    kind: "int",
    default: () => 200,
    min: 1,
    max: 60_000,
    doc: "a global quota check Redis has not answered within this falls back to the node's own bucket (ms)",
  },
  mailboxEngine: {
    file: "mailbox.engine",
    kind: "string",
    default: () => "sqlite",
    choices: ["sqlite", "memory", "redis"],
    doc: "mailbox engine: sqlite (a WAL database in the data dir), memory (amnesia mode, nothing on disk) or redis (shared by nodes; needs mailbox.redis_url)",
  },
  mailboxSqliteSync: {
    file: "mailbox.sqlite_sync",
    kind: "string",
    default: () => "full",
    choices: ["full", "normal"],
    doc: "When the sqlite mailbox answers a write: full after its WAL was flushed to disk (survives power loss), normal once committed (survives a process crash)",
  },
  mailboxRedisUrl: {
    file: "mailbox.redis_url",
    kind: "string",
    default: () => "",
    doc: "Redis of the redis mailbox engine, redis://host:port",
  },
  mailboxRedisKeyPrefix: {
    file: "mailbox.redis_key_prefix",
    kind: "string",
    default: () => "omnigate:mailbox:",
    doc: "prefix of the redis mailbox engine's keys",
  },
  mailboxDedupeWindowMs: {
    file: "mailbox.dedupe_window_ms",
    kind: "int",
    default: () => 300_000,
    min: 1000,
    max: 86_400_000,
    doc: "how long a SEND's idem_key answers with its first msg_id (ms)",
  },
  mailboxVisibilityMs: {
    file: "mailbox.visibility_ms",
    kind: "int",
    default: () => 30_000,
    min: 250,
    max: 43_200_000,
    doc: "visibility timeout of a RECV that names none (ms)",
  },
  mailboxMinVisibilityMs: {
    file: "mailbox.min_visibility_ms",
    kind: "int",
    default: () => 250,
    min: 1,
    max: 43_200_000,
    doc: "shortest visibility_ms a RECV or EXTEND may ask for (ms)",
  },
  mailboxMaxVisibilityMs: {
    file: "mailbox.max_visibility_ms",
    kind: "int",
    default: () => 43_200_000,
    min: 250,
    max: 43_200_000,
    doc: "longest visibility_ms (and NACK delay_ms) a request may ask for (ms)",
  },
  mailboxMaxAttempts: {
    file: "mailbox.max_attempts",
    kind: "int",
    default: () => 5,
    min: 1,
    max: 1000,
    doc: "deliveries of a message before it moves to its topic's dead-letter queue",
  },
  mailboxMaxDepth: {
    file: "mailbox.max_depth_per_tenant",
    kind: "int",
    default: () => 1_000_000,
    min: 1,
    max: 1_000_000_000,
    doc: "messages one tenant may have stored (any state, DLQ included); over it SEND gets 429 quota",
  },
  mailboxMaxBodyBytes: {
    file: "mailbox.max_body_bytes",
    kind: "int",
    default: () => DEFAULT_MAX_FRAME - 8192,
    min: 1,
    max: DEFAULT_MAX_FRAME - 8192,
    doc: "largest message body (bytes): a frame less room for the header and the delivery's meta",
  },
  mailboxMaxRecv: {
    file: "mailbox.max_recv",
    kind: "int",
    default: () => 100,
    min: 1,
    max: 1000,
    doc: "most messages one RECV returns",
  },
  mailboxMaxWaitMs: {
    file: "mailbox.max_wait_ms",
    kind: "int",
    default: () => 20_000,
    min: 0,
    max: 300_000,
    doc: "longest long poll (wait_ms) of a RECV (ms)",
  },
  mailboxTopicPattern: {
    file: "mailbox.topic_pattern",
    kind: "string",
    default: () => "^[A-Za-z0-9_.~-]+(/[A-Za-z0-9_.~-]+)*$",
    doc: "regular expression a topic name must match",
  },
  mailboxMaxTopicLength: {
    file: "mailbox.max_topic_length",
    kind: "int",
    default: () => 256,
    min: 1,
    max: 4096,
    doc: "longest topic name (bytes)",
  },
  storageEngine: {
    file: "storage.engine",
    kind: "string",
    default: () => "fs",
    choices: ["fs", "memory"],
    doc: "where storage objects live: fs = sharded files under data_dir/storage, memory = nothing on disk (amnesia)",
  },
  storageMaxObjectBytes: {
    file: "storage.max_object_bytes",
    kind: "int",
    default: () => 1024 * 1024 * 1024,
    min: 0,
    max: 1024 * 1024 * 1024 * 1024,
    doc: "largest object a storage PUT may store; a larger body gets 413 payload_too_large (bytes)",
  },
  storageChunkBytes: {
    file: "storage.chunk_bytes",
    kind: "int",
    default: () => 64 * 1024,
    min: 4096,
    max: 512 * 1024,
    doc: "body bytes per frame of a storage GET reply; a GET reads 1, 2, 4, then 8 of them at once (bytes)",
  },
  storageMemoryMaxBytes: {
    file: "storage.memory_max_bytes",
    kind: "int",
    default: () => 256 * 1024 * 1024,
    min: 0,
    max: 64 * 1024 * 1024 * 1024,
    doc: "with storage.engine = memory: total object bytes held; a PUT past it gets 413 payload_too_large (bytes)",
  },
};

export function envName(entry: ConfigEntry): string {
  return `OMNIGATE_${flagName(entry).replaceAll("-", "_").toUpperCase()}`;
}

export function flagName(entry: ConfigEntry): string {
  return entry.file.replace(/^limits\./, "").replaceAll(/[._]/g, "-");
}
