/**
 * @omnigate/node embedded: start a node in this process (`startNode`), with its config,
 * TLS material and logger, and read its state. Every name here is public API; the node's
 * own tests reach its parts through their source files.
 */

/** The SDK's: clients look for a local node's dev CA and capability in the same place. */
export { defaultDataDir } from "@omnigate/sdk";
export type { AdmissionSnapshot } from "./admission/index.js";
export type { AppStatsSnapshot } from "./apps/app-stats.js";
export type { AppInput, AppSettings } from "./config/apps.js";
export { ConfigError, type LoadedConfig, type LoadOptions, loadConfig } from "./config/load.js";
export type { QuotaRules, RateRule, TenantOverride } from "./config/quota-rules.js";
export {
  CONFIG_SCHEMA,
  type ConfigEntry,
  type ConfigKey,
  type ConfigValues,
  type NodeConfig,
} from "./config/schema.js";
export type { KernelBus, Subscription } from "./kernel/bus.js";
export type { KernelEvent } from "./kernel/events.js";
export type { ManagedService, ServiceContext, ServiceState } from "./kernel/lifecycle.js";
export type { ServiceHealth } from "./kernel/supervisor.js";
export { createLogger, type Logger } from "./log.js";
export type { MetricsSnapshot, NodeMetrics } from "./metrics/node-metrics.js";
export { type OmnigateNode, type StartOptions, startNode } from "./node.js";
export { NODE_RUNTIME_FLAGS } from "./runtime-flags.js";
export type { ObjectReader, PendingObject, StorageEngine } from "./storage/engine.js";
export { FsEngine } from "./storage/fs-engine.js";
export { MemoryEngine } from "./storage/memory-engine.js";
export { fingerprint, loadTlsMaterial, type TlsMaterial } from "./tls/dev-certs.js";
