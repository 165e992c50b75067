import { DEFAULT_MAX_CAP_LEN, DEFAULT_MAX_FRAME, DEFAULT_MAX_INFLIGHT } from "@omnigate/oap";
import { defaultDataDir } from "@omnigate/sdk";
import { DEFAULT_SESSION_LIMITS } from "@omnigate/sdk/internal";
import type { QuotaRules } from "./quota-rules.js";

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

interface BaseEntry {
  /** Dotted key in the TOML file. The flag drops a `limits.` prefix (--max-inflight); env is OMNIGATE_ + the flag in upper snake. */
  file: string;
  doc: string;
}
interface StringEntry extends BaseEntry {
  kind: "string" | "address" | "optional_address" | "path" | "decimal";
  default: () => string;
  choices?: readonly string[];
}
/** A string setting that takes one of `choices`; its value's type is their union. */
interface ChoiceEntry<C extends string> extends StringEntry {
  kind: "string";
  default: () => C;
  choices: readonly C[];
}
interface IntEntry extends BaseEntry {
  kind: "int";
  default: () => number;
  min: number;
  max: number;
}
export type ConfigEntry = StringEntry | IntEntry;

/** What an entry's setting holds: a number, one of its choices, or any string. */
type ValueOf<E extends ConfigEntry> = E extends IntEntry
  ? number
  : E extends ChoiceEntry<infer C>
    ? C
    : string;

interface TextSpec {
  /** The value, or where it comes from when it depends on the machine (`data_dir`). */
  default: string | (() => string);
  doc: string;
}
interface IntSpec {
  default: number;
  min: number;
  max: number;
  doc: string;
}

/** A free-form string setting. */
function text(file: string, spec: TextSpec, kind: StringEntry["kind"] = "string"): StringEntry {
  const { default: value, doc } = spec;
  return { file, kind, default: typeof value === "function" ? value : () => value, doc };
}

/** A host:port setting, checked when it is read. */
function address(file: string, spec: TextSpec): StringEntry {
  return text(file, spec, "address");
}

/** A host:port setting that may be empty (the listener is off). */
function optionalAddress(file: string, spec: TextSpec): StringEntry {
  return text(file, spec, "optional_address");
}

/** A file or directory setting. */
function path(file: string, spec: TextSpec): StringEntry {
  return text(file, spec, "path");
}

/** A positive decimal like 0.5, kept as text so that it is parsed exactly (a privacy ε). */
function decimal(file: string, spec: TextSpec): StringEntry {
  return text(file, spec, "decimal");
}

/** A setting that takes one of `choices` (inferred as literals: its value's type is their union). */
function choice<const C extends string>(
  file: string,
  spec: { choices: readonly C[]; default: NoInfer<C>; doc: string },
): ChoiceEntry<C> {
  const { choices, default: value, doc } = spec;
  return { file, kind: "string", default: () => value, choices, doc };
}

/** An integer setting from `min` to `max`. */
function int(file: string, spec: IntSpec): IntEntry {
  const { default: value, min, max, doc } = spec;
  return { file, kind: "int", default: () => value, min, max, doc };
}

/** Every node setting, its default and its bounds: the one place defaults live. */
export const CONFIG_SCHEMA = {
  listen: address("listen", {
    default: "127.0.0.1:9443",
    doc: "OAP/1-over-TLS listen address, host:port",
  }),
  wsListen: optionalAddress("ws.listen", {
    default: "127.0.0.1:9444",
    doc: "OAP/1-over-WebSocket (wss://host:port/oap) listen address, host:port; empty = no WebSocket listener",
  }),
  wsAllowedOrigins: text("ws.allowed_origins", {
    default: "",
    doc: "comma-separated origins (https://app.example:8443) whose pages may open a WebSocket; empty = same host only, * = any",
  }),
  admin: address("admin", {
    default: "127.0.0.1:9600",
    doc: "admin HTTP listen address (/healthz, /readyz, /metrics, /status), host:port",
  }),
  dataDir: path("data_dir", {
    // One home for the default: clients look for a local node's dev CA and capability there too.
    default: () => defaultDataDir(),
    doc: "directory for the node's state (dev certificates, node id, engines)",
  }),
  tlsCert: path("tls.cert", {
    default: "",
    doc: "PEM certificate chain; empty = a dev CA and certificate created in the data dir",
  }),
  tlsKey: path("tls.key", { default: "", doc: "PEM private key for tls.cert" }),
  nodeId: text("node_id", {
    default: "",
    doc: "node id reported in HELLO; empty = generated once and kept in the data dir",
  }),
  maxFrame: int("limits.max_frame", {
    default: DEFAULT_MAX_FRAME,
    min: 4096,
    max: DEFAULT_MAX_FRAME,
    doc: "largest frame accepted or sent, header included (bytes)",
  }),
  maxInflight: int("limits.max_inflight", {
    default: DEFAULT_MAX_INFLIGHT,
    min: 1,
    max: 65_536,
    doc: "open streams allowed per connection",
  }),
  maxCapLen: int("limits.max_cap_len", {
    default: DEFAULT_MAX_CAP_LEN,
    min: 0,
    max: 65_535,
    doc: "largest capability accepted on a START frame (bytes)",
  }),
  readBufferBytes: int("limits.read_buffer_bytes", {
    default: DEFAULT_SESSION_LIMITS.readBufferBytes,
    min: 64 * KiB,
    max: GiB,
    doc: "request body bytes (plus per-chunk overhead) buffered per connection before reading pauses",
  }),
  writeBufferBytes: int("limits.write_buffer_bytes", {
    default: DEFAULT_SESSION_LIMITS.writeBufferBytes,
    min: 64 * KiB,
    max: GiB,
    doc: "reply bytes queued for a client that is not reading before its requests stop being read",
  }),
  defaultDeadlineMs: int("limits.default_deadline_ms", {
    default: DEFAULT_SESSION_LIMITS.defaultDeadlineMs,
    min: 1,
    max: 3_600_000,
    doc: "deadline for requests whose meta names none (ms)",
  }),
  maxDeadlineMs: int("limits.max_deadline_ms", {
    default: DEFAULT_SESSION_LIMITS.maxDeadlineMs,
    min: 1,
    max: 86_400_000,
    doc: "ceiling on any deadline a request asks for (ms)",
  }),
  handshakeTimeoutMs: int("limits.handshake_timeout_ms", {
    default: 10_000,
    min: 100,
    max: 120_000,
    doc: "time a client has to finish the TLS handshake (ms)",
  }),
  drainTimeoutMs: int("drain_timeout_ms", {
    default: 10_000,
    min: 0,
    max: 600_000,
    doc: "on SIGTERM/SIGINT, how long in-flight streams may take to finish (ms)",
  }),
  busCapacity: int("kernel.bus_capacity", {
    default: 1024,
    min: 1,
    max: 1_048_576,
    doc: "kernel events queued per bus subscriber; past it the oldest is dropped (bus_overflow_dropped_total)",
  }),
  backoffInitialMs: int("supervisor.backoff_initial_ms", {
    default: 100,
    min: 1,
    max: 60_000,
    doc: "delay before a crashed service's first restart; doubles per crash, jittered (ms)",
  }),
  backoffMaxMs: int("supervisor.backoff_max_ms", {
    default: 30_000,
    min: 1,
    max: 3_600_000,
    doc: "ceiling on the restart delay of a crashed service (ms)",
  }),
  crashLimit: int("supervisor.crash_limit", {
    default: 5,
    min: 1,
    max: 1_000,
    doc: "a service that crashes more often than this within supervisor.crash_window_ms is quarantined",
  }),
  crashWindowMs: int("supervisor.crash_window_ms", {
    default: 60_000,
    min: 1_000,
    max: 86_400_000,
    doc: "window over which a service's crashes are counted (ms)",
  }),
  quarantineMs: int("supervisor.quarantine_ms", {
    default: 300_000,
    min: 1_000,
    max: 86_400_000,
    doc: "how long a quarantined service stays down before one more restart (ms)",
  }),
  serviceStartTimeoutMs: int("supervisor.start_timeout_ms", {
    default: 10_000,
    min: 100,
    max: 600_000,
    doc: "time a service's start() or stop() may take; a start() that takes longer is a crash (ms)",
  }),
  statusRefreshMs: int("status_refresh_ms", {
    default: 1_000,
    min: 100,
    max: 60_000,
    doc: "how often the /status page refreshes its numbers from /status.json (ms)",
  }),
  authMode: choice("auth.mode", {
    choices: ["on", "off"],
    default: "on",
    doc: 'capability checks on every request; "off" is for local experiments only and logs a warning at start',
  }),
  authKeyGraceMs: int("auth.key_grace_ms", {
    default: 600_000,
    min: 0,
    max: 30 * 86_400_000,
    doc: "after a root key rotation, how long tokens under the old key keep working (ms)",
  }),
  authSkewSeconds: int("auth.skew_s", {
    default: 60,
    min: 0,
    max: 3_600,
    doc: "clock skew tolerated on a token's expires and not-before caveats (s)",
  }),
  authRedisUrl: text("auth.redis_url", {
    default: "",
    doc: "Redis that shares revocations between nodes (pub/sub); empty = this node only",
  }),
  authRootKeysFile: path("auth.root_keys_file", {
    default: "",
    doc: "capability root key ring; the nodes of a cluster share one file so each verifies what any minted; empty = data_dir/auth/root-keys.json, made on first start",
  }),
  authDevCapTtlSeconds: int("auth.dev_cap_ttl_s", {
    default: 30 * 86_400,
    min: 60,
    max: 365 * 86_400,
    doc: "lifetime of the dev capability a node mints for tenant 0 and prints at start (s)",
  }),
  logLevel: choice("log_level", {
    choices: ["trace", "debug", "info", "warn", "error", "fatal", "silent"],
    default: "info",
    doc: "log level",
  }),
  registryFile: path("registry_file", {
    default: "",
    doc: "app registry listing the ids [[apps]] may route (0x1000-0xEFFF); empty = registry/app_proto_ids.json shipped with the node",
  }),
  maxConnections: int("limits.max_connections", {
    default: 8192,
    min: 1,
    max: 1_000_000,
    doc: "client connections open at once, TLS handshakes included; more are closed on accept",
  }),
  maxConnectionsPerIp: int("limits.max_connections_per_ip", {
    default: 0,
    min: 0,
    max: 1_000_000,
    doc: "client connections open at once from one IP address; 0 = no per-address limit",
  }),
  nodeMaxInflight: int("limits.node_max_inflight", {
    default: 4096,
    min: 1,
    max: 10_000_000,
    doc: "open streams across all connections; a START beyond it gets 503 overloaded",
  }),
  nodeMaxBufferedBytes: int("limits.node_max_buffered_bytes", {
    default: 256 * MiB,
    min: MiB,
    max: 64 * GiB,
    doc: "request and reply bytes buffered across all connections above which new streams get 503 overloaded",
  }),
  overloadRetryAfterMs: int("limits.overload_retry_after_ms", {
    default: 1_000,
    min: 0,
    max: 60_000,
    doc: "retry_after_ms on 503 overloaded (ms)",
  }),
  firstHeaderTimeoutMs: int("limits.first_header_timeout_ms", {
    default: DEFAULT_SESSION_LIMITS.firstHeaderTimeoutMs,
    min: 100,
    max: 600_000,
    doc: "time a client has after the TLS handshake to send its first complete frame header (ms)",
  }),
  frameTimeoutMs: int("limits.frame_timeout_ms", {
    default: DEFAULT_SESSION_LIMITS.frameTimeoutMs,
    min: 100,
    max: 600_000,
    doc: "time a frame may take to arrive once its first byte has (slow-loris bound, ms)",
  }),
  idleTimeoutMs: int("limits.idle_timeout_ms", {
    default: DEFAULT_SESSION_LIMITS.idleTimeoutMs,
    min: 100,
    max: 86_400_000,
    doc: "a connection with no open stream that receives nothing for this long is closed (ms)",
  }),
  compMaxOutputBytes: int("limits.comp_max_output_bytes", {
    default: DEFAULT_SESSION_LIMITS.compMaxOutputBytes,
    min: KiB,
    max: GiB,
    doc: "hard cap on one COMP request body once inflated; beyond it 413 decompress_cap (bytes)",
  }),
  compMaxRatio: int("limits.comp_max_ratio", {
    default: DEFAULT_SESSION_LIMITS.compMaxRatio,
    min: 1,
    max: 100_000,
    doc: "largest inflated ÷ compressed size of a COMP body; beyond it 413 ratio_cap",
  }),
  compRatioGraceBytes: int("limits.comp_ratio_grace_bytes", {
    default: DEFAULT_SESSION_LIMITS.compRatioGraceBytes,
    min: 0,
    max: GiB,
    doc: "inflated bytes of a COMP body below which the ratio cap does not apply",
  }),
  writeStallTimeoutMs: int("limits.write_stall_timeout_ms", {
    default: DEFAULT_SESSION_LIMITS.writeStallTimeoutMs,
    min: 100,
    max: 600_000,
    doc: "a client that leaves more than write_buffer_bytes of replies unread for this long is disconnected (ms)",
  }),
  notReadyAtPct: int("readiness.not_ready_at_pct", {
    default: 85,
    min: 1,
    max: 100,
    doc: "/readyz turns 503 when in-flight streams or buffered bytes reach this % of their node ceiling",
  }),
  readyAtPct: int("readiness.ready_at_pct", {
    default: 70,
    min: 0,
    max: 99,
    doc: "/readyz turns 200 again once both are below this % (hysteresis)",
  }),
  quotaMaxTenants: int("quotas.max_tenants", {
    default: 100_000,
    min: 1,
    max: 10_000_000,
    doc: "quota buckets kept per node, least recently used evicted first",
  }),
  quotaRetryMinMs: int("quotas.retry_after_min_ms", {
    default: 1_000,
    min: 0,
    max: 600_000,
    doc: "least retry_after_ms on 429 quota, even when the next token comes sooner (ms)",
  }),
  quotaRetryMaxMs: int("quotas.retry_after_max_ms", {
    default: 5_000,
    min: 1,
    max: 600_000,
    doc: "most retry_after_ms on 429 quota, even when the next token comes later (ms)",
  }),
  quotaRedisUrl: text("quotas.redis_url", {
    default: "",
    doc: "redis://host:port shared by several nodes for global request quotas; empty = quotas are per node",
  }),
  quotaRedisKeyPrefix: text("quotas.redis_key_prefix", {
    default: "omnigate:quota:",
    doc: "prefix of the Redis keys holding global quota buckets",
  }),
  quotaRedisTimeoutMs: int("quotas.redis_timeout_ms", {
    default: 200,
    min: 1,
    max: 60_000,
    doc: "a global quota check Redis has not answered within this falls back to the node's own bucket (ms)",
  }),
  mailboxEngine: choice("mailbox.engine", {
    choices: ["sqlite", "memory", "redis", "jetstream"],
    default: "sqlite",
    doc: "mailbox engine: sqlite (a WAL database in the data dir), memory (amnesia mode, nothing on disk), redis (shared by nodes; needs mailbox.redis_url) or jetstream (shared by nodes on a NATS JetStream cluster; needs mailbox.nats_urls)",
  }),
  mailboxNatsUrls: text("mailbox.nats_urls", {
    default: "",
    doc: "servers of the NATS cluster of the jetstream mailbox engine, comma-separated nats://host:port (name them all: the client moves to another when one goes away)",
  }),
  mailboxJetstreamReplicas: int("mailbox.jetstream_replicas", {
    default: 3,
    min: 1,
    max: 5,
    doc: "copies of each stream of the jetstream mailbox engine; a SEND is answered once a quorum stored it (3 survives the loss of one server)",
  }),
  mailboxJetstreamStreamPrefix: text("mailbox.jetstream_stream_prefix", {
    default: "omnigate_mailbox",
    doc: "prefix of the jetstream mailbox engine's streams and subjects (A-Z a-z 0-9 _ -), so several mailboxes share one cluster",
  }),
  mailboxSqliteSync: choice("mailbox.sqlite_sync", {
    choices: ["full", "normal"],
    default: "full",
    doc: "When the sqlite mailbox answers a write: full after its WAL was flushed to disk (survives power loss), normal once committed (survives a process crash)",
  }),
  mailboxRedisUrl: text("mailbox.redis_url", {
    default: "",
    doc: "Redis of the redis mailbox engine, redis://host:port",
  }),
  mailboxRedisKeyPrefix: text("mailbox.redis_key_prefix", {
    default: "omnigate:mailbox:",
    doc: "prefix of the redis mailbox engine's keys",
  }),
  mailboxDedupeWindowMs: int("mailbox.dedupe_window_ms", {
    default: 300_000,
    min: 1000,
    max: 86_400_000,
    doc: "how long a SEND's idem_key answers with its first msg_id (ms)",
  }),
  mailboxVisibilityMs: int("mailbox.visibility_ms", {
    default: 30_000,
    min: 250,
    max: 43_200_000,
    doc: "visibility timeout of a RECV that names none (ms)",
  }),
  mailboxMinVisibilityMs: int("mailbox.min_visibility_ms", {
    default: 250,
    min: 1,
    max: 43_200_000,
    doc: "shortest visibility_ms a RECV or EXTEND may ask for (ms)",
  }),
  mailboxMaxVisibilityMs: int("mailbox.max_visibility_ms", {
    default: 43_200_000,
    min: 250,
    max: 43_200_000,
    doc: "longest visibility_ms (and NACK delay_ms) a request may ask for (ms)",
  }),
  mailboxMaxAttempts: int("mailbox.max_attempts", {
    default: 5,
    min: 1,
    max: 1000,
    doc: "deliveries of a message before it moves to its topic's dead-letter queue",
  }),
  mailboxMaxDepth: int("mailbox.max_depth_per_tenant", {
    default: 1_000_000,
    min: 1,
    max: 1_000_000_000,
    doc: "messages one tenant may have stored (any state, DLQ included); over it SEND gets 429 quota",
  }),
  mailboxMaxBodyBytes: int("mailbox.max_body_bytes", {
    default: DEFAULT_MAX_FRAME - 8192,
    min: 1,
    max: DEFAULT_MAX_FRAME - 8192,
    doc: "largest message body (bytes): a frame less room for the header and the delivery's meta",
  }),
  mailboxMaxRecv: int("mailbox.max_recv", {
    default: 100,
    min: 1,
    max: 1000,
    doc: "most messages one RECV returns",
  }),
  mailboxMaxWaitMs: int("mailbox.max_wait_ms", {
    default: 20_000,
    min: 0,
    max: 300_000,
    doc: "longest long poll (wait_ms) of a RECV (ms)",
  }),
  mailboxTopicPattern: text("mailbox.topic_pattern", {
    default: "^[A-Za-z0-9_.~-]+(/[A-Za-z0-9_.~-]+)*$",
    doc: "regular expression a topic name must match",
  }),
  mailboxMaxTopicLength: int("mailbox.max_topic_length", {
    default: 256,
    min: 1,
    max: 4096,
    doc: "longest topic name (bytes)",
  }),
  storageEngine: choice("storage.engine", {
    choices: ["fs", "memory", "s3"],
    default: "fs",
    doc: "where objects live: fs = files under data_dir/storage, memory = nothing on disk (amnesia), s3 = an S3 bucket nodes share (needs storage.s3_endpoint)",
  }),
  storageMaxObjectBytes: int("storage.max_object_bytes", {
    default: GiB,
    min: 0,
    max: 1024 * GiB,
    doc: "largest object a storage PUT may store; a larger body gets 413 payload_too_large (bytes)",
  }),
  storageChunkBytes: int("storage.chunk_bytes", {
    default: 64 * KiB,
    min: 4096,
    max: 512 * KiB,
    doc: "body bytes per frame of a storage GET reply; a GET reads 1, 2, 4, then 8 of them at once (bytes)",
  }),
  storageMemoryMaxBytes: int("storage.memory_max_bytes", {
    default: 256 * MiB,
    min: 0,
    max: 64 * GiB,
    doc: "with storage.engine = memory: total object bytes held; a PUT past it gets 413 payload_too_large (bytes)",
  }),
  storageS3Endpoint: text("storage.s3_endpoint", {
    default: "",
    doc: "with storage.engine = s3: http(s)://host:port of the S3 API (OpenStack Swift's s3api, Ceph RGW, MinIO, AWS)",
  }),
  storageS3Bucket: text("storage.s3_bucket", {
    default: "omnigate",
    doc: "with storage.engine = s3: the bucket objects live in (made at start when missing); nodes that share it share objects",
  }),
  storageS3Region: text("storage.s3_region", {
    default: "us-east-1",
    doc: "with storage.engine = s3: the region requests are signed for",
  }),
  storageS3AccessKeyId: text("storage.s3_access_key_id", {
    default: "",
    doc: "with storage.engine = s3: access key id; empty (and no secret) = the AWS SDK's own chain (AWS_ACCESS_KEY_ID, …)",
  }),
  storageS3SecretAccessKey: text("storage.s3_secret_access_key", {
    default: "",
    doc: "with storage.engine = s3: secret access key; set it through the environment (OMNIGATE_STORAGE_S3_SECRET_ACCESS_KEY) rather than a file",
  }),
  storageS3ForcePathStyle: choice("storage.s3_force_path_style", {
    choices: ["true", "false"],
    default: "true",
    doc: "with storage.engine = s3: address buckets as host/bucket/key (Swift, MinIO) rather than bucket.host/key (AWS virtual hosts)",
  }),
  dhtMode: choice("dht.mode", {
    choices: ["off", "on"],
    default: "off",
    doc: "join a DHT network of nodes: announce public objects, fetch missing ones through (docs/dht.md)",
  }),
  clusterNodes: text("cluster.nodes", {
    default: "",
    doc: "comma-separated OAP URLs (oap+tls:// or wss://) of every node of this node's cluster, itself included; HELLO lists them so clients fail over among them; empty = a node on its own",
  }),
  dhtBootstrap: text("dht.bootstrap", {
    default: "",
    doc: "comma-separated oap+tls:// URLs of nodes to join the DHT through; empty = wait to be contacted",
  }),
  dhtAdvertiseUrl: text("dht.advertise_url", {
    default: "",
    doc: "oap+tls:// URL peers reach this node at; empty = the OAP listener's address",
  }),
  dhtNetworkKeyFile: path("dht.network_key_file", {
    default: "",
    doc: "file with the network key (32 bytes, base64url) shared by the network's nodes; empty = data_dir/dht/network.key, made on first start",
  }),
  dhtCaFiles: text("dht.ca_files", {
    default: "",
    doc: "comma-separated PEM files of the CAs peers' certificates are checked against; empty = this node's dev CA",
  }),
  dhtContactTimeoutMs: int("dht.contact_timeout_ms", {
    default: 1000,
    min: 50,
    max: 60_000,
    doc: "per-contact timeout of a DHT query before round trips are known, and the ceiling of adaptive ones (ms)",
  }),
  dhtProviderTtlMs: int("dht.provider_ttl_ms", {
    default: 24 * 3_600_000,
    min: 60_000,
    max: 7 * 24 * 3_600_000,
    doc: "lifetime of the provider records this node publishes; they are republished at half of it (ms)",
  }),
  dhtMaxProviderKeys: int("dht.max_provider_keys", {
    default: 100_000,
    min: 1,
    max: 10_000_000,
    doc: "keys the provider store holds records for; records past it are refused (429 quota)",
  }),
  dhtFetchHedgeMs: int("dht.fetch_hedge_ms", {
    default: 500,
    min: 0,
    max: 60_000,
    doc: "fetch-through: with no verified group from the first provider after this, a second one is asked too (ms)",
  }),
  dhtFetchIdleTimeoutMs: int("dht.fetch_idle_timeout_ms", {
    default: 10_000,
    min: 100,
    max: 600_000,
    doc: "fetch-through: a provider that delivers no verified group for this long is dropped (ms)",
  }),
  ledgerRecords: choice("ledger.records", {
    choices: ["on", "off"],
    default: "on",
    doc: "count requests served per tenant and app, and write a signed settlement record per epoch (docs/ledger.md)",
  }),
  ledgerZk: choice("ledger.zk", {
    choices: ["off", "on"],
    default: "off",
    doc: "settlement records carry a commitment to the usage and a zero-knowledge proof of it; off = plain signed totals",
  }),
  ledgerEpochSeconds: int("ledger.epoch_seconds", {
    default: 3600,
    min: 1,
    max: 7 * 86_400,
    doc: "length of a usage epoch; epochs are aligned to multiples of it since the Unix epoch (seconds)",
  }),
  ledgerParts: int("ledger.parts", {
    default: 16,
    min: 1,
    max: 64,
    doc: "with ledger.zk = on: slices of an epoch committed separately and proven to sum to its total",
  }),
  ledgerStore: choice("ledger.store", {
    choices: ["off", "on"],
    default: "off",
    doc: "also store each settlement record as a storage object in its tenant's namespace (addresses in ledger dir/stored.jsonl)",
  }),
  ledgerDir: path("ledger.dir", {
    default: "",
    doc: "where settlement records and the node's settlement key are kept; empty = data_dir/ledger",
  }),
  privacyDashboard: choice("privacy.dashboard", {
    choices: ["off", "on"],
    default: "off",
    doc: "release requests served per app and period with differential privacy, shown at /privacy on the admin port (docs/privacy.md)",
  }),
  privacyEpsilon: decimal("privacy.epsilon", {
    default: "0.5",
    doc: "ε each period's release spends: discrete Laplace noise of scale contribution_cap/ε on every count (a decimal, e.g. 0.5)",
  }),
  privacyBudget: decimal("privacy.budget", {
    default: "10",
    doc: "total ε all releases may ever spend; past it releases are refused (a decimal, e.g. 10)",
  }),
  privacyContributionCap: int("privacy.contribution_cap", {
    default: 100,
    min: 1,
    max: 1_000_000,
    doc: "requests of one tenant counted per period across all apps (the rest are left out of the release): the sensitivity Δ",
  }),
  privacyPeriodSeconds: int("privacy.period_seconds", {
    default: 3600,
    min: 1,
    max: 7 * 86_400,
    doc: "length of a release period; periods are aligned to multiples of it since the Unix epoch (seconds)",
  }),
  privacyDir: path("privacy.dir", {
    default: "",
    doc: "where releases (releases.jsonl) and the spent budget (budget.jsonl) are kept; empty = data_dir/privacy",
  }),
  shapingEnabled: choice("shaping.enabled", {
    choices: ["true", "false"],
    default: "true",
    doc: "grant the traffic shaping (padding, jitter, cover traffic) a client asks for in HELLO; false = answer as a node without it (docs/shaping.md)",
  }),
  shapingMaxJitterMs: int("shaping.max_jitter_ms", {
    default: 50,
    min: 0,
    max: 10_000,
    doc: "most jitter granted: how long a send may be held to hide its timing (ms)",
  }),
  shapingMaxCoverHz: int("shaping.max_cover_hz", {
    default: 20,
    min: 0,
    max: 1_000,
    doc: "most cover bursts per second granted, each way, per connection; 0 = no cover traffic",
  }),
  shapingMaxCoverBytes: int("shaping.max_cover_bytes", {
    default: 16_384,
    min: 55,
    max: DEFAULT_MAX_FRAME,
    doc: "largest cover burst granted, before padding (bytes)",
  }),
};

/** The scalar settings, typed from the schema: numbers, unions of choices, strings. */
export type ConfigValues = { [K in keyof typeof CONFIG_SCHEMA]: ValueOf<(typeof CONFIG_SCHEMA)[K]> };

/** The scalar settings: each has a file key, a flag and an env name. */
export type ConfigKey = keyof ConfigValues;

/** Every node setting, as loaded and checked. */
export interface NodeConfig extends ConfigValues {
  /** Per-app quotas and per-tenant overrides: TOML tables only (`[quotas.apps."0x0101"]`, `[[quotas.tenants]]`). */
  quotaRules: QuotaRules;
}

export function envName(entry: ConfigEntry): string {
  return `OMNIGATE_${flagName(entry).replaceAll("-", "_").toUpperCase()}`;
}

export function flagName(entry: ConfigEntry): string {
  return entry.file.replace(/^limits\./, "").replaceAll(/[._]/g, "-");
}
