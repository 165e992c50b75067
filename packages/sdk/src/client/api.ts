/**
 * The client's public names that Node and the browser share. `client/index.ts` (Node) and
 * `browser.ts` add what differs between them: connect(), createClient(), addressOf() and
 * Node's TLS trust settings.
 */
export type { Logger } from "../logger.js";
export type { CallOptions, RequestOptions, StreamOptions } from "./call-options.js";
export type { ResponseHead } from "./call-stream.js";
export { type CapProvider, toCapBytes } from "./capability.js";
export { OapClient, type OapResponse } from "./client.js";
// errors.ts holds the public error types and nothing else.
export * from "./errors.js";
export type { ClientEventName, ClientEvents, OapEvent } from "./events.js";
export {
  type DeadLetterMessage,
  type LeaseCallOptions,
  type MailboxCallOptions,
  MailboxClient,
  MailboxMessage,
  type RecvOptions,
  type SendOptions,
  type SubscribeOptions,
} from "./mailbox.js";
export type { SendResult } from "./mailbox-batch-replies.js";
export { CLIENT_DEFAULTS, type ConnectOptions, type ShapingOptions } from "./options.js";
export { backoffMs, type RetryPolicy } from "./retry.js";
export {
  type GetOptions,
  isStorageAddress,
  type ObjectHead,
  type ObjectInfo,
  type PutOptions,
  type PutResult,
  type StorageAddress,
  type StorageCallOptions,
  StorageChunkError,
  StorageClient,
  StorageIntegrityError,
  StorageReader,
} from "./storage.js";
export { OapStream } from "./stream.js";
export { DEFAULT_WS_PORT, type NodeAddress, parseNodeUrl } from "./url.js";
