export * from "./apps.js";
export * from "./engine-settings.js";
export * from "./load.js";
export * from "./quota-rules.js";
export * from "./schema.js";
