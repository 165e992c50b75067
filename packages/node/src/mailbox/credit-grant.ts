import { OapError } from "@omnigate/oap";
import type { IncomingEvent } from "@omnigate/sdk/internal";

/**
 * The credit an EVENT frame grants a subscription (docs/mailbox.md, SUBSCRIBE): a one-frame
 * EVENT|ACK_REQ|START|END with meta `{"credit": n}`, n from 1 to `maxCredit`, and no body.
 * Anything else is refused: 400 `unsupported` for a frame that is not a grant at all, 400
 * `bad_meta` for a grant whose meta or body is wrong.
 */
export function creditGranted(event: IncomingEvent, maxCredit: number): number {
  if (!event.ackRequested || !event.start || !event.end) {
    throw new OapError(
      "unsupported",
      "the mailbox takes EVENT frames only as credit grants: one EVENT|ACK_REQ|START|END frame each",
    );
  }
  const credit = event.meta.credit;
  if (typeof credit !== "number" || !Number.isSafeInteger(credit) || credit < 1 || credit > maxCredit) {
    throw new OapError("bad_meta", `a credit grant's meta is {"credit": n} with n from 1 to ${maxCredit}`);
  }
  if (event.body.byteLength > 0) throw new OapError("bad_meta", "a credit grant carries no body");
  return credit;
}
