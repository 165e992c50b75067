import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";

export interface RawRedisPlan {
  bodyBytes: number;
  /** XADDs per pipeline. */
  batch: number;
  /** Consumers, each reading `recvMax` entries per XREADGROUP. */
  consumers: number;
  recvMax: number;
  /** The producer pauses while this many entries are added and not yet acked. */
  maxBacklog: number;
  seconds: number;
}

const STREAM = "bench:raw";
const GROUP = "bench";

/**
 * The Redis floor for the mailbox's mixed load, the same work with nothing around it:
 * pipelined XADDs of `bodyBytes` bodies into one stream, and consumers that XREADGROUP `>`
 * batches of `recvMax` and settle each batch with XACK + XDEL (what an ACK does to the
 * stream). `rows` counts entries acked within `seconds`.
 */
export async function rawRedisStream(
  url: string,
  plan: RawRedisPlan,
): Promise<{ rows: number; seconds: number }> {
  const producer = new Redis(url);
  const readers = Array.from({ length: plan.consumers }, () => new Redis(url));
  const body = randomBytes(plan.bodyBytes);
  await producer.del(STREAM);
  await producer.xgroup("CREATE", STREAM, GROUP, "0", "MKSTREAM");
  let added = 0;
  let acked = 0;
  let running = true;
  const started = process.hrtime.bigint();
  const until = started + BigInt(Math.round(plan.seconds * 1e9));
  const produce = async (): Promise<void> => {
    while (running) {
      if (added - acked >= plan.maxBacklog) {
        await new Promise((resolve) => setImmediate(resolve));
        continue;
      }
      const pipeline = producer.pipeline();
      for (let i = 0; i < plan.batch; i++) pipeline.xadd(STREAM, "*", "b", body);
      await pipeline.exec();
      added += plan.batch;
    }
  };
  const consume = async (redis: Redis, name: string): Promise<void> => {
    while (running) {
      const read = (await redis.xreadgroup(
        "GROUP",
        GROUP,
        name,
        "COUNT",
        plan.recvMax,
        "BLOCK",
        100,
        "STREAMS",
        STREAM,
        ">",
      )) as Array<[string, Array<[string, string[]]>]> | null;
      const ids = read?.[0]?.[1].map(([id]) => id) ?? [];
      if (ids.length === 0) continue;
      await redis
        .pipeline()
        .xack(STREAM, GROUP, ...ids)
        .xdel(STREAM, ...ids)
        .exec();
      if (process.hrtime.bigint() < until) acked += ids.length;
    }
  };
  const work = [produce(), ...readers.map((r, i) => consume(r, `c${i}`))];
  try {
    while (process.hrtime.bigint() < until) await new Promise((resolve) => setTimeout(resolve, 20));
    const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
    running = false;
    await Promise.all(work);
    return { rows: acked, seconds: elapsed };
  } finally {
    await producer.del(STREAM);
    producer.disconnect();
    for (const r of readers) r.disconnect();
  }
}
