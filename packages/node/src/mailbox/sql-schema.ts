/**
 * The mailbox tables. `state`: 0 ready (visible now), 1 leased (lease ends at `visible_at`),
 * 2 dead-lettered, 3 delayed (a NACK delay; visible from `visible_at`). `seq` is the send
 * order; `deliveries` counts every delivery and never resets, so `msg_id.deliveries` names
 * one delivery (the receipt).
 *
 * Ready and hidden (leased or delayed) rows sit in separate partial indexes, so a RECV finds
 * the oldest ready message without stepping over the leased ones ahead of it, and finds the
 * hidden rows that came due by their `visible_at`.
 */
export const MAILBOX_SCHEMA = `
CREATE TABLE IF NOT EXISTS messages (
  seq INTEGER PRIMARY KEY,
  msg_id TEXT NOT NULL UNIQUE,
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
CREATE INDEX IF NOT EXISTS messages_ready ON messages (tenant, topic, seq) WHERE state = 0;
CREATE INDEX IF NOT EXISTS messages_hidden ON messages (tenant, topic, visible_at) WHERE state IN (1, 3);
CREATE INDEX IF NOT EXISTS messages_dlq ON messages (tenant, topic, seq) WHERE state = 2;
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

export const STATE_READY = 0;
export const STATE_LEASED = 1;
export const STATE_DEAD = 2;
export const STATE_DELAYED = 3;

/** `PRAGMA user_version` of the layout above. */
export const SCHEMA_VERSION = 2;

/**
 * What brings a file of an older layout to the current one (in a transaction, once).
 * Version 0 had one queue index over states 0 and 1 and kept delayed rows in state 0;
 * version 1 had no `e2e` column.
 */
export function migrations(fromVersion: number, nowMs: number): string {
  const steps: string[] = [];
  if (fromVersion < 1) {
    steps.push(
      "DROP INDEX IF EXISTS messages_queue;",
      `UPDATE messages SET state = ${STATE_DELAYED} WHERE state = ${STATE_READY} AND visible_at > ${Math.floor(nowMs)};`,
    );
  }
  if (fromVersion < 2) steps.push("ALTER TABLE messages ADD COLUMN e2e INTEGER NOT NULL DEFAULT 0;");
  return steps.join("\n");
}
