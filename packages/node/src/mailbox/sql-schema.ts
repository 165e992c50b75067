import { DEAD, DELAYED, READY } from "./sql/queue-index.js";

/**
 * The mailbox tables. A message is one row by its `seq` (send order); `state` is 0 ready,
 * 1 leased (until `visible_at`), 2 dead-lettered, 3 delayed (a NACK delay, until
 * `visible_at`). `deliveries` counts every delivery and never resets, so
 * `msg_id.deliveries` names one delivery (the receipt). `msg_id` carries the seq
 * (sql/msg-id.ts), so it needs no index; the queue order lives in memory (sql/queue-index.ts)
 * and only dead letters have an index, for DLQ.LIST.
 */
export const MAILBOX_SCHEMA = `
CREATE TABLE IF NOT EXISTS messages (
  seq INTEGER PRIMARY KEY,
  msg_id TEXT NOT NULL,
  tenant TEXT NOT NULL,
  topic TEXT NOT NULL,
  attrs TEXT,
  body BLOB NOT NULL,
  sent_at INTEGER NOT NULL,
  state INTEGER NOT NULL,
  visible_at INTEGER NOT NULL,
  attempt INTEGER NOT NULL,
  deliveries INTEGER NOT NULL,
  last_error TEXT,
  e2e INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS messages_dlq ON messages (tenant, topic, seq) WHERE state = ${DEAD};
CREATE TABLE IF NOT EXISTS dedupe (
  tenant TEXT NOT NULL,
  topic TEXT NOT NULL,
  idem_key TEXT NOT NULL,
  msg_id TEXT NOT NULL,
  body_hash BLOB NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (tenant, topic, idem_key)
);
CREATE INDEX IF NOT EXISTS dedupe_expiry ON dedupe (expires_at);
`;

/** `PRAGMA user_version` of the layout above. */
export const SCHEMA_VERSION = 3;

/**
 * What brings a file of an older layout to the current one (in a transaction, once).
 * Version 0 kept delayed rows in state 0; version 1 had no `e2e` column; versions before 3
 * had queue indexes (now in memory) and random msg_ids with a UNIQUE index (kept, so those
 * ids still resolve: the engine looks them up by that index when the file has it).
 */
export function migrations(fromVersion: number, nowMs: number): string {
  const steps: string[] = [];
  if (fromVersion < 1) {
    steps.push(
      `UPDATE messages SET state = ${DELAYED} WHERE state = ${READY} AND visible_at > ${Math.floor(nowMs)};`,
    );
  }
  if (fromVersion < 2) steps.push("ALTER TABLE messages ADD COLUMN e2e INTEGER NOT NULL DEFAULT 0;");
  if (fromVersion < 3) {
    steps.push(
      "DROP INDEX IF EXISTS messages_queue;",
      "DROP INDEX IF EXISTS messages_ready;",
      "DROP INDEX IF EXISTS messages_hidden;",
    );
  }
  return steps.join("\n");
}

/** The automatic index of a pre-3 file's `msg_id UNIQUE` column. */
export const LEGACY_MSG_ID_INDEX = "sqlite_autoindex_messages_1";
