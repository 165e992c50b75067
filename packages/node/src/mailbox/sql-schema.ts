/**
 * The mailbox tables. `state`: 0 waiting (visible from `visible_at`), 1 leased (lease ends
 * at `visible_at`), 2 dead-lettered. `seq` is the send order; `deliveries` counts every
 * delivery and never resets, so `msg_id.deliveries` names one delivery (the receipt).
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
  last_error TEXT
);
CREATE INDEX IF NOT EXISTS messages_queue ON messages (tenant, topic, seq) WHERE state < 2;
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

export const STATE_WAITING = 0;
export const STATE_LEASED = 1;
export const STATE_DEAD = 2;
