import { connect, type TLSSocket } from "node:tls";
import { decodeStartPayload, Flags, type Frame, FrameDecoder, type Meta } from "@omnigate/oap";

/** A received frame with its START meta/body split out. */
export interface SeenFrame extends Frame {
  meta: Meta | undefined;
  body: Uint8Array;
}

/**
 * A bare TLS connection that writes raw bytes and records every frame the node sends —
 * for tests that must put exact (often invalid) bytes on the wire, below the SDK.
 */
export class RawOapConnection {
  readonly frames: SeenFrame[] = [];
  closed = false;
  private readonly decoder = new FrameDecoder();
  private waiters: Array<() => void> = [];

  private constructor(readonly socket: TLSSocket) {
    socket.on("data", (chunk: Buffer) => {
      for (const frame of this.decoder.push(chunk)) this.frames.push(split(frame));
      this.wake();
    });
    socket.on("close", () => {
      this.closed = true;
      this.wake();
    });
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

  /** Resolves with the first frame (already seen or yet to come) that matches, or undefined on close/timeout. */
  async waitFor(match: (f: SeenFrame) => boolean, timeoutMs = 5_000): Promise<SeenFrame | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const found = this.frames.find(match);
      if (found) return found;
      if (this.closed || Date.now() >= deadline) return undefined;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Resolves true once the node has closed the connection, false if it is still open after `timeoutMs`. */
  async waitClosed(timeoutMs = 5_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.closed;
  }

  close(): void {
    this.socket.destroy();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

function split(frame: Frame): SeenFrame {
  if ((frame.flags & Flags.START) !== 0 || frame.code >= 400) {
    const { meta, body } = decodeStartPayload(frame.payload);
    return { ...frame, meta, body };
  }
  return { ...frame, meta: undefined, body: frame.payload };
}
