export * from "./chain.js";
export * from "./connection-limit.js";
export * from "./fairness.js";
export * from "./from-config.js";
export * from "./quota.js";
export * from "./readiness.js";
export * from "./snapshot.js";
