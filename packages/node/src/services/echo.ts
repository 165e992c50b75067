import { setTimeout as sleep } from "node:timers/promises";
import { AppProtoId } from "@omnigate/oap";
import type { IncomingRequest, ResponseWriter, Service } from "@omnigate/sdk";

const MAX_DELAY_MS = 10_000;

/**
 * The built-in echo on 0x0101: answers with the request's meta and streams each body chunk
 * back as it arrives. Meta `delay_ms` (0–10000) delays the answer, for diagnostics.
 */
export class EchoService implements Service {
  readonly appProtoId = AppProtoId.ECHO;
  readonly name = "echo";

  async handle(req: IncomingRequest, res: ResponseWriter): Promise<void> {
    const delay = req.meta.delay_ms;
    if (typeof delay === "number" && delay > 0) {
      await sleep(Math.min(delay, MAX_DELAY_MS), undefined, { signal: req.signal });
    }
    const options = { e2e: req.e2e };
    const whole = req.completeBody();
    if (whole) return res.reply(200, req.meta, whole, options);

    // A streamed request gets its reply head at once, then each chunk as it arrives.
    await res.start(200, req.meta, undefined, options);
    for await (const chunk of req.body) await res.write(chunk);
    res.end();
  }
}
