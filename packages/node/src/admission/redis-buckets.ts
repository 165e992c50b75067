import { Redis } from "ioredis";
import type { GlobalBuckets } from "./quota.js";

/**
 * One token bucket per key in a Redis hash, refilled and spent atomically by a Lua script
 * on Redis's own clock, so every node sharing the Redis draws from the same bucket however
 * their clocks drift. Keys expire once a full bucket would have refilled, so idle tenants
 * cost nothing. Returns {1, 0} when a token was taken, {0, ms until the next token} otherwise.
 */
const TAKE_SCRIPT = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then
  tokens = burst
  at = now
end
if now > at then
  tokens = math.min(burst, tokens + (now - at) * rate / 1000)
  at = now
end
local taken = 0
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
  taken = 1
else
  wait = math.ceil((1 - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(at))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return {taken, wait}
`;

interface TakeCommand {
  quotaTake(key: string, rate: number, burst: number): Promise<[number, number]>;
}

export class RedisBuckets implements GlobalBuckets {
  private readonly redis: Redis & TakeCommand;

  constructor(
    url: string,
    private readonly keyPrefix: string,
  ) {
    // Commands fail fast while Redis is away instead of queueing: the quota stage falls back.
    const redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: false });
    redis.defineCommand("quotaTake", { numberOfKeys: 1, lua: TAKE_SCRIPT });
    redis.on("error", () => {
      // Reconnection is ioredis's job; failed checks are reported by the quota stage.
    });
    this.redis = redis as Redis & TakeCommand;
  }

  /** Resolves true once connected, false if that has not happened within `timeoutMs`. */
  connected(timeoutMs: number): Promise<boolean> {
    if (this.redis.status === "ready") return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.redis.off("ready", onReady);
        resolve(false);
      }, timeoutMs);
      const onReady = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.redis.once("ready", onReady);
    });
  }

  async take(key: string, ratePerSec: number, burst: number): Promise<number> {
    const [taken, wait] = await this.redis.quotaTake(this.keyPrefix + key, ratePerSec, burst);
    return taken === 1 ? 0 : Math.max(1, wait);
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
