export * from "./body-queue.js";
export * from "./connection-timeouts.js";
export * from "./response.js";
export * from "./session.js";
export * from "./types.js";
