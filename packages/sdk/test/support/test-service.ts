import { setTimeout as sleep } from "node:timers/promises";
import { OapError } from "@omnigate/oap";
import type { IncomingRequest, ResponseWriter, Service } from "../../src/internal.js";

/** Private-range id of the test service (never registered). */
export const TEST_APP = 0xf001;

/**
 * A service for client tests, chosen by meta `op`. It counts attempts per key (the
 * idempotency key, else meta `key`) and the concurrency it sees, so tests can assert what
 * the node delivered rather than what the client claims.
 *
 * - `flaky`: 503 overloaded (retry_after_ms 50) on a key's first attempt, 200 after
 * - `busy-long`: 503 overloaded with retry_after_ms 5000, always
 * - `bad`: 400 bad_meta, always
 * - `slow`: waits meta `delay_ms`, then 200 (tracks concurrency)
 * - `hold`: reports arrival; a key's first attempt waits until the stream is torn down, later ones answer 200
 * - `flood`: streams meta `bytes` of body in 64 KiB writes, counting what the connection accepted
 * - `blob`: answers meta `bytes` of body in one reply(), so its last body bytes travel with END
 */
export class TestService implements Service {
  readonly appProtoId = TEST_APP;
  readonly name = "sdk-test";
  readonly attempts = new Map<string, number>();
  concurrent = 0;
  maxConcurrent = 0;
  floodWritten = 0;
  floodDone = false;
  private arrivals = new Map<string, Array<() => void>>();

  attemptsFor(key: string): number {
    return this.attempts.get(key) ?? 0;
  }

  /** Resolves when a `hold` request for `key` arrives. */
  arrival(key: string): Promise<void> {
    return new Promise((resolve) => {
      const list = this.arrivals.get(key) ?? [];
      list.push(resolve);
      this.arrivals.set(key, list);
    });
  }

  async handle(req: IncomingRequest, res: ResponseWriter): Promise<void> {
    const key = String(req.meta.idempotency_key ?? req.meta.key ?? "");
    const attempt = (this.attempts.get(key) ?? 0) + 1;
    this.attempts.set(key, attempt);
    for await (const _ of req.body) {
      // The ops below use meta only.
    }
    switch (req.meta.op) {
      case "flaky":
        if (attempt === 1) {
          res.fail(new OapError("overloaded", "busy, try again", { retryAfterMs: 50 }));
        } else {
          res.reply(200, { attempt });
        }
        return;
      case "busy-long":
        res.fail(new OapError("overloaded", "come back much later", { retryAfterMs: 5_000 }));
        return;
      case "bad":
        res.fail(new OapError("bad_meta", "this op is always refused"));
        return;
      case "slow":
        this.concurrent++;
        this.maxConcurrent = Math.max(this.maxConcurrent, this.concurrent);
        try {
          await sleep(Number(req.meta.delay_ms ?? 20));
        } finally {
          this.concurrent--;
        }
        res.reply(200, { attempt });
        return;
      case "hold":
        for (const resolve of this.arrivals.get(key) ?? []) resolve();
        this.arrivals.delete(key);
        if (attempt > 1) {
          res.reply(200, { attempt });
          return;
        }
        await new Promise<void>((resolve) =>
          req.signal.addEventListener("abort", () => resolve(), { once: true }),
        );
        return;
      case "flood": {
        const total = Number(req.meta.bytes);
        const chunk = Buffer.alloc(64 * 1024, 0x5a);
        await res.start(200, {});
        for (let sent = 0; sent < total; sent += chunk.byteLength) {
          await res.write(chunk);
          this.floodWritten += chunk.byteLength;
        }
        this.floodDone = true;
        res.end();
        return;
      }
      case "blob":
        res.reply(200, {}, Buffer.alloc(Number(req.meta.bytes), 0x42));
        return;
      default:
        res.fail(new OapError("bad_meta", `unknown op ${String(req.meta.op)}`));
    }
  }
}
