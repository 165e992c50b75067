import { HEADER_LEN } from "@omnigate/oap";
import WebSocket from "ws";
import { RawFrames } from "./raw-frames.js";

/**
 * A bare WebSocket connection to a node's wss:// listener that sends raw messages and records
 * every frame the node sends, with the close code — the WebSocket twin of RawOapConnection.
 */
export class RawWssConnection extends RawFrames {
  /** The close code the node sent (1000, 1002, 1003, 1009, …), once closed. */
  closeCode: number | undefined;

  private constructor(readonly ws: WebSocket) {
    super();
    ws.on("message", (data: Buffer) => this.received(data));
    ws.on("close", (code) => {
      this.closeCode = code;
      this.ended();
    });
    ws.on("error", () => {});
  }

  static open(
    url: string,
    ca: string | undefined,
    options: WebSocket.ClientOptions = {},
  ): Promise<RawWssConnection> {
    const ws = new WebSocket(url, "oap.1", { ca, perMessageDeflate: false, ...options });
    return new Promise((resolve, reject) => {
      ws.once("open", () => resolve(new RawWssConnection(ws)));
      ws.once("error", reject);
      ws.once("unexpected-response", (_req, res) =>
        reject(new Error(`upgrade refused: HTTP ${res.statusCode}`)),
      );
    });
  }

  /**
   * Sends a byte string as the rule wants it: one message per frame, cut at each header's
   * `len`. Bytes whose `len` cannot be trusted (shorter than a header, past the end) go as one
   * message with everything left, so a vector's header error reaches the node as it is.
   */
  write(bytes: Uint8Array): void {
    for (const message of frameMessages(bytes)) this.ws.send(message, { binary: true });
  }

  /** Sends one message exactly as given. */
  send(data: Uint8Array | string): void {
    this.ws.send(data, { binary: typeof data !== "string" });
  }

  close(): void {
    this.ws.terminate();
  }
}

/** Cuts a byte string into the messages `RawWssConnection.write` sends. */
export function frameMessages(bytes: Uint8Array): Uint8Array[] {
  const messages: Uint8Array[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  while (at < bytes.byteLength) {
    const left = bytes.byteLength - at;
    const len = left >= 4 ? view.getUint32(at) : 0;
    const take = len >= HEADER_LEN && len <= left ? len : left;
    messages.push(bytes.subarray(at, at + take));
    at += take;
  }
  return messages;
}
