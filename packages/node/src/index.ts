export type { AdmissionSnapshot } from "./admission/index.js";
export * from "./config/index.js";
export type { Logger } from "./log.js";
export { createLogger } from "./log.js";
export * from "./node.js";
export { fingerprint, type TlsMaterial } from "./tls/dev-certs.js";
