import { randomUUID } from "node:crypto";
import { afterAll, beforeAll } from "vitest";
import { type RedisProcess, startRedis } from "../../../../testing/support/redis-server.js";
import { RedisEngine } from "../../src/mailbox/redis-engine.js";
import { mailboxEngineSuite } from "./engine-suite.js";

let redis: RedisProcess;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

mailboxEngineSuite(
  "redis",
  async (rules, clock) => {
    // A key prefix per test: tests share the server, never each other's keys.
    const keyPrefix = `mb-test:${randomUUID()}:`;
    const open = () => new RedisEngine({ ...rules, url: redis.url, keyPrefix, clock });
    const subject = {
      engine: open(),
      async reopen() {
        await subject.engine.close();
        subject.engine = open();
        return subject.engine;
      },
      cleanup: () => subject.engine.close(),
    };
    return subject;
  },
  true,
);
