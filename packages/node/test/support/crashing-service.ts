import { OapError } from "@omnigate/oap";
import type { IncomingRequest, ResponseWriter } from "@omnigate/sdk";
import type { ManagedService, ServiceContext } from "../../src/index.js";

/** Private-range id of the crash-test service (never registered). */
export const CRASHY_APP = 0xf0c1;

/**
 * A supervised service for kernel tests, driven by meta `op`:
 * - `ok`: 200
 * - `code`: answers with status meta `code`, whatever it is
 * - `throw` / `reject`: a bug — throws (or rejects with) a plain Error
 * - `quota`: refuses with 429 `quota`, as admission would
 * - `hold`: answers 200 once `release()` is called (or when the stream is torn down)
 *
 * Its lifecycle can be steered too: `holdStarts()` makes the next start() wait for
 * `releaseStarts()`, `failStarts` makes start() reject, `crashInBackground()` reports a
 * crash through the context like a service whose background work died.
 */
export class CrashingService implements ManagedService {
  readonly appProtoId = CRASHY_APP;
  readonly name = "crashy";
  starts = 0;
  stops = 0;
  failStarts = false;
  private context: ServiceContext | undefined;
  private startGate: { promise: Promise<void>; open: () => void } | undefined;
  private held: Array<() => void> = [];

  async start(context: ServiceContext): Promise<void> {
    this.starts++;
    this.context = context;
    if (this.startGate) await this.startGate.promise;
    if (this.failStarts) throw new Error("cannot open its store");
  }

  stop(): void {
    this.stops++;
  }

  holdStarts(): void {
    let open = () => {};
    const promise = new Promise<void>((resolve) => {
      open = resolve;
    });
    this.startGate = { promise, open };
  }

  releaseStarts(): void {
    this.startGate?.open();
    this.startGate = undefined;
  }

  crashInBackground(): void {
    this.context?.crash(new Error("lost its backend"));
  }

  get holding(): number {
    return this.held.length;
  }

  release(): void {
    for (const resolve of this.held.splice(0)) resolve();
  }

  handle(req: IncomingRequest, res: ResponseWriter): void | Promise<void> {
    switch (req.meta.op) {
      case "ok":
        return res.reply(200, {});
      case "code":
        return res.reply(Number(req.meta.code), {});
      case "throw":
        throw new Error("boom on request");
      case "reject":
        return Promise.reject(new RangeError("async boom"));
      case "quota":
        throw new OapError("quota", "tenant over its rate", { retryAfterMs: 1_000 });
      case "hold":
        return new Promise<void>((resolve) => {
          this.held.push(resolve);
          req.signal.addEventListener("abort", () => resolve(), { once: true });
        }).then(() => res.reply(200, {}));
      default:
        throw new OapError("bad_meta", `unknown op ${String(req.meta.op)}`);
    }
  }
}
