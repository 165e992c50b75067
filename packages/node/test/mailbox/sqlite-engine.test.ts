import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../../../testing/support/temp-dir.js";
import { ManualClock } from "../../src/mailbox/clock.js";
import { MAILBOX_SCHEMA } from "../../src/mailbox/sql-schema.js";
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

describe("sqlite schema", () => {
  it("moves a version-0 file (one queue index, delayed rows in state 0, no e2e column) to the current layout", async () => {
    const dir = tempDir("omnigate-mailbox-v0-");
    const path = join(dir.path, "mailbox.sqlite");
    const clock = new ManualClock();
    const now = clock.now();
    const old = new Database(path);
    old.exec(
      MAILBOX_SCHEMA.replace(/CREATE INDEX IF NOT EXISTS messages_(ready|hidden)[^;]*;/g, "").replace(
        /last_error TEXT,\s*e2e[^\n]*/,
        "last_error TEXT",
      ),
    );
    old.exec("CREATE INDEX messages_queue ON messages (tenant, topic, seq) WHERE state < 2");
    const insert = old.prepare(
      "INSERT INTO messages (msg_id, tenant, topic, body, sent_at, state, visible_at, attempt, deliveries) VALUES (?, '1', 't', x'00', ?, 0, ?, ?, ?)",
    );
    insert.run("ready", now, now, 0, 0);
    insert.run("delayed", now, now + 5_000, 1, 1);
    old.close();

    const engine = new SqlEngine({ ...RULES, path, clock });
    try {
      expect(await engine.depth()).toEqual({ ready: 1, inflight: 0, delayed: 1, dlq: 0 });
      const first = await engine.recv({ tenant: "1", topic: "t", max: 10, visibilityMs: 60_000, waitMs: 0 });
      expect(first.map((d) => d.msgId)).toEqual(["ready"]);
      clock.advance(5_000);
      const second = await engine.recv({ tenant: "1", topic: "t", max: 10, visibilityMs: 60_000, waitMs: 0 });
      expect(second.map((d) => [d.msgId, d.attempt])).toEqual([["delayed", 2]]);
      await engine.close();
      const reopened = new Database(path, { readonly: true });
      const indexes = reopened
        .prepare(
          "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'messages_%' ORDER BY name",
        )
        .pluck()
        .all();
      reopened.close();
      expect(indexes).toEqual(["messages_dlq", "messages_hidden", "messages_ready"]);
    } finally {
      await engine.close();
      dir.remove();
    }
  });
});
