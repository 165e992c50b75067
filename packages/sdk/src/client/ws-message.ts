import { checkFrameMessage, FrameHeaderError } from "@omnigate/oap/internal";
import type { TransportReceiver } from "./transport.js";

/**
 * Hands one received WebSocket message on: data when it is binary and holds exactly one whole
 * frame (specs/oap-1.md §12.1), invalid otherwise. `undefined` stands for a text message, which
 * is refused whatever it holds.
 */
export function receiveWsMessage(receiver: TransportReceiver, binary: Uint8Array | undefined): void {
  if (binary === undefined) {
    receiver.invalid(
      new FrameHeaderError("bad_frame", "a text message; OAP/1 frames travel in binary WebSocket messages"),
    );
    return;
  }
  try {
    checkFrameMessage(binary);
  } catch (error) {
    if (!(error instanceof FrameHeaderError)) throw error;
    receiver.invalid(error);
    return;
  }
  receiver.data(binary);
}
