/** The client in Node: the shared client names, plus connect() over TLS or WSS and Node's trust settings. */

export { addressOf } from "./address-of.js";
export * from "./api.js";
export { CAP_ENV } from "./capability.js";
export { connect, createClient } from "./connect.js";
export { CA_FILE_ENV, normalizeFingerprint } from "./trust.js";
export { DEFAULT_PORT, NODE_URL_ENV, type NodeTransport } from "./url.js";
