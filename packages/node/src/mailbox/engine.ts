/**
 * The mailbox engine: the storage and the delivery rules of at-least-once messaging, behind
 * one interface so the service is written once and every engine passes the same suite.
 * Rules (docs/mailbox.md): leases with visibility timeouts, receipts unique per delivery,
 * dead-lettering after `maxAttempts`, idempotent sends within the dedupe window.
 */
export interface MailboxEngine {
  readonly kind: EngineKind;
  /** Stores the message durably before resolving; a known idempotency key returns the first msg_id. */
  send(input: SendInput): Promise<SendResult>;
  /** Leases up to `max` visible messages, waiting up to `waitMs` for one to arrive. */
  recv(input: RecvInput): Promise<Delivery[]>;
  /** Removes the message of a live lease. */
  ack(lease: LeaseRef): Promise<void>;
  /** Ends a live lease early; the message is visible again after `delayMs`. */
  nack(lease: LeaseRef, delayMs: number, error?: string): Promise<void>;
  /** Moves a live lease's expiry to `visibilityMs` from now. */
  extend(lease: LeaseRef, visibilityMs: number): Promise<void>;
  /**
   * Removes a message wherever it is (waiting, leased or dead-lettered); false when there was
   * none, it is another tenant's, or `topic` is given and the message is on another topic.
   */
  delete(tenant: string, msgId: string, topic?: string): Promise<boolean>;
  dlqList(tenant: string, topic: string, max: number): Promise<DeadLetter[]>;
  /** Moves up to `max` dead letters back to the topic, oldest first, with their attempts reset. */
  dlqRedrive(tenant: string, topic: string, max: number): Promise<number>;
  dlqPurge(tenant: string, topic: string): Promise<number>;
  /** Messages by state across all tenants (for `mailbox_depth{state}`). */
  depth(): Promise<DepthByState>;
  /** Flushes what is pending and releases the storage. Pending long polls end empty. */
  close(): Promise<void>;
}

export type EngineKind = "sqlite" | "memory" | "redis" | "jetstream";

export interface SendInput {
  tenant: string;
  topic: string;
  body: Uint8Array;
  idemKey?: string;
  attrs?: Attrs;
  /** The sender flagged the body APP_E2E; kept with the message and given to each delivery. */
  e2e?: boolean;
}

/**
 * One delivery, named by its receipt. With `topic`, a message on another topic is treated as
 * stale: a token limited to some topics can only settle deliveries of those topics.
 */
export interface LeaseRef {
  tenant: string;
  receipt: string;
  topic?: string;
}

export interface SendResult {
  msgId: string;
  duplicate: boolean;
}

export interface RecvInput {
  tenant: string;
  topic: string;
  max: number;
  visibilityMs: number;
  waitMs: number;
  /** Ends a long poll early (the request went away); resolves with what is there, usually nothing. */
  signal?: AbortSignal;
}

export type Attrs = Record<string, string>;

export interface Delivery {
  msgId: string;
  /** Names this delivery only: once its lease expires or ends, the receipt is stale. */
  receipt: string;
  /** 1 on the first delivery, +1 on each redelivery (reset by a DLQ redrive). */
  attempt: number;
  sentAt: number;
  topic: string;
  attrs: Attrs;
  body: Uint8Array;
  e2e: boolean;
}

export interface DeadLetter {
  msgId: string;
  topic: string;
  attempts: number;
  sentAt: number;
  lastError: string;
  attrs: Attrs;
  body: Uint8Array;
  e2e: boolean;
}

export interface DepthByState {
  /** Visible now. */
  ready: number;
  /** Leased to a consumer. */
  inflight: number;
  /** Waiting for a NACK delay. */
  delayed: number;
  dlq: number;
}

/** Engine rules that come from config. */
export interface EngineRules {
  /** Deliveries before a message is dead-lettered. */
  maxAttempts: number;
  /** How long an idempotency key answers with its first msg_id. */
  dedupeWindowMs: number;
  /** Messages one tenant may have stored (any state, DLQ included); over → 429 quota. */
  maxDepthPerTenant: number;
}

/** Why a dead letter left the queue when its lease ran out instead of being NACKed. */
export const LEASE_EXPIRED_ERROR = "visibility timeout expired";
