import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../../../testing/support/temp-dir.js";
import { ManualClock } from "../../src/mailbox/clock.js";
import { SqlEngine } from "../../src/mailbox/sqlite-engine.js";
import { mailboxEngineSuite } from "./engine-suite.js";

const RULES = { maxAttempts: 5, dedupeWindowMs: 300_000, maxDepthPerTenant: 1000 };

mailboxEngineSuite(
  "sqlite",
  async (rules, clock) => {
    const dir = tempDir("omnigate-mailbox-");
    const path = join(dir.path, "mailbox.sqlite");
    const subject = {
      engine: new SqlEngine({ ...rules, path, clock }),
      async reopen() {
        await subject.engine.close();
        subject.engine = new SqlEngine({ ...rules, path, clock });
        return subject.engine;
      },
      async cleanup() {
        await subject.engine.close();
        dir.remove();
      },
    };
    return subject;
  },
  true,
);

/** The layout of version 0 files: queue indexes in SQLite, random msg_ids under a UNIQUE index. */
const V0_SCHEMA = `
CREATE TABLE messages (
  seq INTEGER PRIMARY KEY, msg_id TEXT NOT NULL UNIQUE, tenant TEXT NOT NULL, topic TEXT NOT NULL,
  attrs TEXT, body BLOB NOT NULL, sent_at INTEGER NOT NULL, state INTEGER NOT NULL,
  visible_at INTEGER NOT NULL, attempt INTEGER NOT NULL, deliveries INTEGER NOT NULL, last_error TEXT
);
CREATE INDEX messages_queue ON messages (tenant, topic, seq) WHERE state < 2;
CREATE INDEX messages_dlq ON messages (tenant, topic, seq) WHERE state = 2;
CREATE TABLE dedupe (
  tenant TEXT NOT NULL, topic TEXT NOT NULL, idem_key TEXT NOT NULL, msg_id TEXT NOT NULL,
  body_hash BLOB NOT NULL, expires_at INTEGER NOT NULL, PRIMARY KEY (tenant, topic, idem_key)
);
CREATE INDEX dedupe_expiry ON dedupe (expires_at);
`;

describe("sqlite schema", () => {
  it("opens a version-0 file: its messages, delays and msg_ids keep working, its queue index is gone", async () => {
    const dir = tempDir("omnigate-mailbox-v0-");
    const path = join(dir.path, "mailbox.sqlite");
    const clock = new ManualClock();
    const now = clock.now();
    const old = new Database(path);
    old.exec(V0_SCHEMA);
    const insert = old.prepare(
      "INSERT INTO messages (msg_id, tenant, topic, body, sent_at, state, visible_at, attempt, deliveries) VALUES (?, '1', 't', x'00', ?, 0, ?, ?, ?)",
    );
    insert.run("01HF7YAWFCYV23GNMDC55A37YS", now, now, 0, 0);
    insert.run("01HF7YAWFCYV23GNMDC55A37YT", now, now + 5_000, 1, 1);
    insert.run("01HF7YAWFCYV23GNMDC55A37YV", now, now, 0, 0);
    old.close();

    const engine = new SqlEngine({ ...RULES, path, clock });
    try {
      expect(await engine.depth()).toEqual({ ready: 2, inflight: 0, delayed: 1, dlq: 0 });
      expect(await engine.delete("1", "01HF7YAWFCYV23GNMDC55A37YV")).toBe(true);
      const first = await engine.recv({ tenant: "1", topic: "t", max: 10, visibilityMs: 60_000, waitMs: 0 });
      expect(first.map((d) => d.msgId)).toEqual(["01HF7YAWFCYV23GNMDC55A37YS"]);
      await engine.ack({ tenant: "1", receipt: first[0]?.receipt ?? "" });
      clock.advance(5_000);
      const second = await engine.recv({ tenant: "1", topic: "t", max: 10, visibilityMs: 60_000, waitMs: 0 });
      expect(second.map((d) => [d.msgId, d.attempt])).toEqual([["01HF7YAWFCYV23GNMDC55A37YT", 2]]);
      const sent = await engine.send({ tenant: "1", topic: "t", body: new Uint8Array([1]) });
      expect(await engine.delete("1", sent.msgId)).toBe(true);
      await engine.close();
      const reopened = new Database(path, { readonly: true });
      const indexes = reopened
        .prepare(
          "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'messages' ORDER BY name",
        )
        .pluck()
        .all();
      expect(reopened.pragma("user_version", { simple: true })).toBe(3);
      reopened.close();
      expect(indexes).toEqual(["messages_dlq", "sqlite_autoindex_messages_1"]);
    } finally {
      await engine.close();
      dir.remove();
    }
  });
});
