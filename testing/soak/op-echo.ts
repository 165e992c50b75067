/**
 * `echo` (the node's own echo app) and `app` (the echo backend through the node): 16–1024
 * random bytes, the reply compared.
 */
import { randomBytes } from "node:crypto";
import type { OapClient } from "@omnigate/sdk";
import type { OpContext } from "./calls.js";

export const ECHO_APP = 0x0101;
export const BACKEND_APP = 0x1001;

export async function echoOp(ctx: OpContext, client: OapClient, app: number): Promise<void> {
  const body = randomBytes(16 + Math.floor(ctx.random() * 1009));
  const reply = await client.request(app, { meta: { soak: true }, body, deadlineMs: ctx.deadlineMs });
  if (!Buffer.from(reply.body).equals(body)) throw ctx.mismatch("echoed body differs");
}
