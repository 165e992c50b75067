/**
 * @omnigate/sdk in Node: the client (connect(), requests, streams, mailbox, storage) and
 * serve() for app backends. Every name here is public API; what the node and the tests
 * need beyond it is in `@omnigate/sdk/internal`. The browser build is `browser.ts`.
 *
 * @module @omnigate/sdk
 */
export { type Blake3, createBlake3 } from "./blake3.js";
export * from "./client/index.js";
export * from "./server/index.js";
