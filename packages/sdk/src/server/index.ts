/**
 * The server side an app author uses: serve() an app behind a node, and the request and
 * response it hands the app's handler. The session, listeners and transports the node is
 * built from are in `../internal.ts`.
 */
export { type AppHandler, type AppReply, type AppServer, type ServeOptions, serve } from "./serve.js";
export type { SessionLimits } from "./session.js";
export type { BodyOptions, IncomingRequest, ReplyOptions, ResponseWriter } from "./types.js";
