import { join } from "node:path";
import { checkMailboxSettings, type NodeConfig, natsUrls } from "../config/index.js";
import type { MailboxCounter } from "./counters.js";
import type { EngineRules, MailboxEngine } from "./engine.js";
import { SqlEngine } from "./sqlite-engine.js";

/** The database file of the sqlite engine, under the node's data dir. */
export const MAILBOX_DB_FILE = "mailbox.sqlite";

export function engineRules(config: NodeConfig): EngineRules {
  return {
    maxAttempts: config.mailboxMaxAttempts,
    dedupeWindowMs: config.mailboxDedupeWindowMs,
    maxDepthPerTenant: config.mailboxMaxDepth,
  };
}

/** Opens the engine `mailbox.engine` names (ioredis and the NATS client are loaded only for their engines). */
export async function openEngine(config: NodeConfig, count: MailboxCounter): Promise<MailboxEngine> {
  checkMailboxSettings(config);
  const rules = engineRules(config);
  if (config.mailboxEngine === "memory") return new SqlEngine({ ...rules, path: ":memory:", count });
  if (config.mailboxEngine === "redis") {
    const { RedisEngine } = await import("./redis-engine.js");
    return new RedisEngine({
      ...rules,
      url: config.mailboxRedisUrl,
      keyPrefix: config.mailboxRedisKeyPrefix,
      count,
    });
  }
  if (config.mailboxEngine === "jetstream") {
    const urls = natsUrls(config.mailboxNatsUrls);
    // The NATS client is loaded only for this engine.
    const { JetStreamEngine } = await import("./jetstream-engine.js");
    return new JetStreamEngine({
      ...rules,
      urls,
      replicas: config.mailboxJetstreamReplicas,
      streamPrefix: config.mailboxJetstreamStreamPrefix,
      count,
    });
  }
  return new SqlEngine({
    ...rules,
    path: join(config.dataDir, MAILBOX_DB_FILE),
    synchronous: config.mailboxSqliteSync,
    count,
  });
}
