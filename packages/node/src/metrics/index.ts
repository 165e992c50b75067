export * from "./app-stats.js";
export * from "./node-metrics.js";
export * from "./observe-sessions.js";
export * from "./shaping-metrics.js";
export * from "./storage-metrics.js";
