import { randomBytes } from "node:crypto";
import { join } from "node:path";
import Database from "better-sqlite3";
import { monotonicFactory } from "ulid";
import { MAILBOX_SCHEMA } from "../../packages/node/src/mailbox/sql-schema.js";

/**
 * The floor: inserts of 100-byte messages straight into SQLite (same schema, WAL, synchronous
 * FULL), `batch` rows per transaction, as fast as one thread can go for `seconds`.
 */
export function rawSqliteInserts(
  dir: string,
  bodyBytes: number,
  batch: number,
  seconds: number,
): { rows: number; seconds: number } {
  const db = new Database(join(dir, "raw.sqlite"));
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  db.exec(MAILBOX_SCHEMA);
  const insert = db.prepare(
    "INSERT INTO messages (msg_id, tenant, topic, attrs, body, sent_at, state, visible_at, attempt, deliveries) VALUES (?, ?, ?, NULL, ?, ?, 0, ?, 0, 0)",
  );
  const nextId = monotonicFactory();
  const body = randomBytes(bodyBytes);
  const tenant = "0".repeat(32);
  const insertBatch = db.transaction((now: number) => {
    for (let i = 0; i < batch; i++) insert.run(nextId(now), tenant, "bench", body, now, now);
  });
  const started = process.hrtime.bigint();
  const until = started + BigInt(Math.round(seconds * 1e9));
  let rows = 0;
  while (process.hrtime.bigint() < until) {
    insertBatch(Date.now());
    rows += batch;
  }
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  db.close();
  return { rows, seconds: elapsed };
}
