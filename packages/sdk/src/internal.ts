/**
 * `@omnigate/sdk/internal`: the public API plus the parts the node is built from (the
 * server session, its listeners and transports, the mailbox record codec). Not a stable
 * API: these change with the node, without a major version of the SDK.
 */

export { blake3Implementation } from "./blake3.js";
export * from "./index.js";
export { decodeRecords, encodeRecords, type MailboxRecord, RecordReader } from "./mailbox/records.js";
export { BodyQueue, chunkCost } from "./server/body-queue.js";
export { type ConnectionContext, type PushedEvent, SessionConnection } from "./server/connection-context.js";
export {
  type ConnectionTimeoutLimits,
  ConnectionTimeouts,
  type TimeoutKind,
} from "./server/connection-timeouts.js";
export { listenOn } from "./server/listen.js";
export { type ListenerOptions, OapListener } from "./server/listener.js";
export { type OriginPolicy, originAllowed, parseOriginPolicy } from "./server/origin-policy.js";
export { StreamResponse } from "./server/response.js";
export {
  DEFAULT_SESSION_LIMITS,
  ServerSession,
  type SessionHandler,
  type SessionLimits,
  type StreamEndInfo,
  type StreamTarget,
} from "./server/session.js";
export { type ConnectionGate, SessionPool, type SessionPoolOptions } from "./server/session-pool.js";
export { type TraceSessionsOptions, traceSessions } from "./server/trace-sessions.js";
export {
  type CloseKind,
  type SessionTransport,
  SocketTransport,
  type TransportKind,
  type TransportReceiver,
} from "./server/transport.js";
export type { IncomingEvent, Service } from "./server/types.js";
export { WsListener, type WsListenerOptions } from "./server/ws-listener.js";
export { WebSocketTransport, WS_CLOSE } from "./server/ws-transport.js";
export {
  endSpan,
  extractTraceContext,
  injectTraceContext,
  streamAttributes,
  TraceAttributes,
  tracerOf,
  tracingEnabled,
} from "./tracing/otel.js";
export {
  Blake3TreeBuilder,
  type Blake3TreeResult,
  buildOutboard,
  encodeGroupRecordHead,
  expectedProofLength,
  GROUP_BYTES,
  GroupVerificationError,
  groupCount,
  groupCv,
  groupLength,
  groupSpanFor,
  outboardBytes,
  ProofStreamError,
  parentCv,
  proofFor,
  treeRoot,
  type VerifiedGroup,
  VerifiedGroupReader,
  verifyGroup,
} from "./verified/index.js";
export { WebSocketMessageSink, type WebSocketState } from "./ws-message-sink.js";
