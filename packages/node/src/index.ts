export type { AppStatsSnapshot } from "./apps/app-stats.js";
export * from "./config/index.js";
export type { Logger } from "./log.js";
export { createLogger } from "./log.js";
export * from "./node.js";
export { fingerprint, loadTlsMaterial, type TlsMaterial } from "./tls/dev-certs.js";
