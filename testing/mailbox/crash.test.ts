import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { connect, type OapClient } from "../../packages/sdk/src/index.js";
import { type NodeProcess, startNodeProcess } from "../support/node-process.js";
import { type RedisProcess, startRedis } from "../support/redis-server.js";
import { tempDir } from "../support/temp-dir.js";

const TOPIC = "crash/orders";
const PRODUCERS = 4;
const CONSUMERS = 3;
/** Work done before the kill: enough sends answered and acks answered to make the check mean something. */
const SENDS_BEFORE_KILL = 400;
const ACKS_BEFORE_KILL = 150;
const VISIBILITY_MS = 1000;

const pause = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));

describe.each(["sqlite", "redis"] as const)(
  "mailbox crash: node on %s killed with SIGKILL under load",
  (engine) => {
    const dir = tempDir("omnigate-mailbox-crash-");
    let node: NodeProcess | undefined;
    let redis: RedisProcess | undefined;
    const clients: OapClient[] = [];

    afterEach(async () => {
      for (const client of clients.splice(0)) await client.close();
      await node?.stop();
      await redis?.stop();
      dir.remove();
    });

    it("delivers every answered SEND at least once after restart, none after its ack answered, and the data is intact", {
      timeout: 240_000,
    }, async () => {
      // The node dies, not Redis: Redis keeps running across the restart.
      if (engine === "redis") redis = await startRedis();
      const flags = ["--mailbox-engine", engine, ...(redis ? ["--mailbox-redis-url", redis.url] : [])];
      node = await startNodeProcess(flags, { dataDir: dir.path });
      const before = await connect(node.oapUrl, { ca: node.caPem, tenant: 42n });
      clients.push(before);

      const sentBodies = new Map<string, string>();
      const acked = new Set<string>();
      const deliveredBefore = new Set<string>();
      let running = true;
      let answered = 0;
      const producers = Array.from({ length: PRODUCERS }, async (_, p) => {
        for (let n = 0; running; n++) {
          const body = `p${p}-${n}`;
          try {
            const { msgId } = await before.mailbox.send(TOPIC, body);
            sentBodies.set(msgId, body);
            answered++;
          } catch {
            // Before the kill a refusal (429/503 on a loaded machine) is retried; after it, stop.
            if (!running) return;
            await pause();
          }
        }
      });
      const consumers = Array.from({ length: CONSUMERS }, async () => {
        while (running) {
          try {
            const got = await before.mailbox.recv(TOPIC, {
              max: 10,
              visibilityMs: VISIBILITY_MS,
              waitMs: 100,
            });
            for (const msg of got) {
              deliveredBefore.add(msg.msgId);
              await msg.ack();
              acked.add(msg.msgId);
            }
          } catch {
            // Before the kill a refusal (429/503 on a loaded machine) is retried; after it, stop.
            if (!running) return;
            await pause();
          }
        }
      });

      const loadUntil = Date.now() + 60_000;
      while (answered < SENDS_BEFORE_KILL || acked.size < ACKS_BEFORE_KILL) {
        if (Date.now() > loadUntil)
          throw new Error(`only ${answered} sends and ${acked.size} acks answered in 60 s`);
        await pause();
      }
      await node.kill();
      running = false;
      await Promise.all([...producers, ...consumers]);
      await before.close();
      clients.length = 0;

      node = await startNodeProcess(flags, { dataDir: dir.path });
      const after = await connect(node.oapUrl, { ca: node.caPem, tenant: 42n });
      clients.push(after);
      // At least once: delivered before the kill, or after the restart. (A message whose ACK the
      // node committed without the answer reaching the consumer is gone, and was delivered.)
      const outstanding = new Set([...sentBodies.keys()].filter((id) => !deliveredBefore.has(id)));
      const restartedAt = Date.now();
      const waitingAtKill = outstanding.size;
      const redeliveredAfterAck: string[] = [];
      const corrupt: string[] = [];
      // Leases taken before the kill run out within VISIBILITY_MS; the bound is only a safety net.
      const giveUpAt = Date.now() + 60_000;
      // Drain until every outstanding message came and, past the old leases, the topic is empty.
      while (Date.now() < giveUpAt) {
        const got = await after.mailbox.recv(TOPIC, { max: 100, visibilityMs: 60_000, waitMs: 500 });
        if (got.length === 0 && outstanding.size === 0 && Date.now() > restartedAt + VISIBILITY_MS) break;
        for (const msg of got) {
          if (acked.has(msg.msgId)) redeliveredAfterAck.push(msg.msgId);
          const body = sentBodies.get(msg.msgId);
          if (body !== undefined && msg.body.toString() !== body) corrupt.push(msg.msgId);
          outstanding.delete(msg.msgId);
          await msg.ack();
        }
      }
      expect(answered).toBeGreaterThanOrEqual(SENDS_BEFORE_KILL);
      // The restart had work to do: messages accepted and not yet delivered when the node died.
      expect(waitingAtKill).toBeGreaterThan(0);
      expect([...outstanding]).toEqual([]);
      expect(redeliveredAfterAck).toEqual([]);
      expect(corrupt).toEqual([]);

      await after.close();
      clients.length = 0;
      await node.stop();
      node = undefined;
      if (engine !== "sqlite") return;
      const db = new Database(join(dir.path, "mailbox.sqlite"), { readonly: true });
      try {
        expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
      } finally {
        db.close();
      }
    });
  },
);
