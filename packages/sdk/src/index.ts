export * from "./blake3.js";
export * from "./client/index.js";
export * from "./mailbox/records.js";
export * from "./server/index.js";
export * from "./ws-message-sink.js";
