export * from "./body-queue.js";
export * from "./connection-timeouts.js";
export * from "./listen.js";
export * from "./listener.js";
export * from "./response.js";
export * from "./serve.js";
export * from "./session.js";
export * from "./types.js";
