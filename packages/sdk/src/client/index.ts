/** The client in Node: the shared client names, plus connect() over TLS or WSS and Node's trust settings. */

export { addressOf } from "./address-of.js";
export * from "./api.js";
export { CAP_ENV, type Environment } from "./capability.js";
export { connect, createClient } from "./connect.js";
export { DATA_DIR_ENV, defaultDataDir, nodeDataDir } from "./data-dir.js";
export { CA_FILE_ENV, normalizeFingerprint } from "./trust.js";
export { DEFAULT_NODE_URL, DEFAULT_PORT, NODE_URL_ENV, type NodeTransport } from "./url.js";
