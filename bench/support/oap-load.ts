import { AppProtoId } from "@omnigate/oap";
import { connect } from "@omnigate/sdk";
import type { EchoTarget } from "./load.js";

/**
 * An SDK client on one connection to the node, calling an echo (by default the built-in one,
 * 0x0101; the app-plane benchmark passes a routed app's id). It uses
 * `request()` exactly as an application would (default deadline, no extra meta), so the
 * measurement includes everything the SDK and node do per call, not a hand-tuned fast path.
 */
export async function connectOap(
  url: string,
  ca: string,
  appId: number = AppProtoId.ECHO,
  cap?: string,
): Promise<EchoTarget> {
  const client = await connect(url, { ca, ...(cap ? { cap } : {}) });
  return {
    async echo(body) {
      const reply = await client.request(appId, { body });
      if (reply.code !== 200 || reply.body.byteLength !== body.byteLength) {
        throw new Error(
          `oap echo returned ${reply.code} with ${reply.body.byteLength} bytes for ${body.byteLength}`,
        );
      }
    },
    close: () => client.close(),
  };
}
