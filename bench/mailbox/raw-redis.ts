import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";

/** The Redis floor: pipelined XADDs of `bodyBytes` bodies, `batch` per pipeline, for `seconds`. */
export async function rawRedisXadd(
  url: string,
  bodyBytes: number,
  batch: number,
  seconds: number,
): Promise<{ rows: number; seconds: number }> {
  const redis = new Redis(url);
  const body = randomBytes(bodyBytes);
  const started = process.hrtime.bigint();
  const until = started + BigInt(Math.round(seconds * 1e9));
  let rows = 0;
  try {
    while (process.hrtime.bigint() < until) {
      const pipeline = redis.pipeline();
      for (let i = 0; i < batch; i++) pipeline.xadd("bench:raw", "*", "b", body);
      await pipeline.exec();
      rows += batch;
    }
  } finally {
    redis.disconnect();
  }
  return { rows, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}
