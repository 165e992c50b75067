export * from "./apps.js";
export * from "./data-dir.js";
export * from "./load.js";
export * from "./schema.js";
