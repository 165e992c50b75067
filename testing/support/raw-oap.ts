import { connect, type TLSSocket } from "node:tls";
import { RawFrames } from "./raw-frames.js";

export type { SeenFrame } from "./raw-frames.js";

/**
 * A bare TLS connection that writes raw bytes and records every frame the node sends —
 * for tests that must put exact (often invalid) bytes on the wire, below the SDK.
 */
export class RawOapConnection extends RawFrames {
  private constructor(readonly socket: TLSSocket) {
    super();
    socket.on("data", (chunk: Buffer) => this.received(chunk));
    socket.on("close", () => this.ended());
    socket.on("error", () => {});
  }

  static open(url: string, ca: string | undefined): Promise<RawOapConnection> {
    const { hostname, port } = new URL(url.replace(/^oap\+tls:/, "https:"));
    return new Promise((resolve, reject) => {
      const socket = connect({ host: hostname, port: Number(port), ca, servername: "localhost" }, () =>
        resolve(new RawOapConnection(socket)),
      );
      socket.once("error", reject);
    });
  }

  write(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  close(): void {
    this.socket.destroy();
  }
}
