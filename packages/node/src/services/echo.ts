import { setTimeout as sleep } from "node:timers/promises";
import { AppProtoId } from "@omnigate/oap";
import type { IncomingRequest, ResponseWriter, Service } from "@omnigate/sdk/internal";

const MAX_DELAY_MS = 10_000;
const E2E = { e2e: true } as const;

/**
 * The built-in echo on 0x0101: answers with the request's meta and streams each body chunk
 * back as it arrives. Meta `delay_ms` (0–10000) delays the answer, for diagnostics.
 */
export class EchoService implements Service {
  readonly appProtoId = AppProtoId.ECHO;
  readonly name = "echo";

  handle(req: IncomingRequest, res: ResponseWriter): void | Promise<void> {
    const delay = req.meta.delay_ms;
    if (typeof delay === "number" && delay > 0) return this.delayed(req, res, Math.min(delay, MAX_DELAY_MS));
    // A one-frame request (the common case) is answered at once, without a promise.
    const whole = req.completeBody();
    if (whole) return res.reply(200, req.meta, whole, req.e2e ? E2E : undefined);
    return this.streamed(req, res);
  }

  private async delayed(req: IncomingRequest, res: ResponseWriter, ms: number): Promise<void> {
    await sleep(ms, undefined, { signal: req.signal });
    const whole = req.completeBody();
    if (whole) return res.reply(200, req.meta, whole, { e2e: req.e2e });
    return this.streamed(req, res);
  }

  /** A streamed request gets its reply head at once, then each chunk as it arrives. */
  private async streamed(req: IncomingRequest, res: ResponseWriter): Promise<void> {
    await res.start(200, req.meta, undefined, { e2e: req.e2e });
    for await (const chunk of req.body) await res.write(chunk);
    res.end();
  }
}
