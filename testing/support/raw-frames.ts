import { decodeStartPayload, Flags, type Frame, FrameDecoder, type Meta } from "@omnigate/oap";

/** A received frame with its START meta/body split out. */
export interface SeenFrame extends Frame {
  meta: Meta | undefined;
  body: Uint8Array;
}

/**
 * What a raw test connection records, whatever its transport: every frame the node sends,
 * and whether the node closed the connection — with waits on both.
 */
export abstract class RawFrames {
  readonly frames: SeenFrame[] = [];
  closed = false;
  private readonly decoder = new FrameDecoder();
  private waiters: Array<() => void> = [];

  /** Writes raw bytes (over WebSocket: cut into one message per frame, see RawWssConnection). */
  abstract write(bytes: Uint8Array): void;
  abstract close(): void;

  protected received(bytes: Uint8Array): void {
    for (const frame of this.decoder.push(bytes)) this.frames.push(split(frame));
    this.wake();
  }

  protected ended(): void {
    this.closed = true;
    this.wake();
  }

  /** Resolves with the first frame (already seen or yet to come) that matches, or undefined on close/timeout. */
  async waitFor(match: (f: SeenFrame) => boolean, timeoutMs = 5_000): Promise<SeenFrame | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const found = this.frames.find(match);
      if (found) return found;
      if (this.closed || Date.now() >= deadline) return undefined;
      await this.nextChange(deadline);
    }
  }

  /** Resolves true once the node has closed the connection, false if it is still open after `timeoutMs`. */
  async waitClosed(timeoutMs = 5_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) await this.nextChange(deadline);
    return this.closed;
  }

  private nextChange(deadline: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
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
