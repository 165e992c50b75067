import type { TLSSocket } from "node:tls";
import type { EchoTarget } from "../support/load.js";

/**
 * How one echo protocol lays out its frames; the pipelined client does everything else. Both
 * the raw-TLS floor and the minimal OAP/1 client use the same client, so the only difference
 * between them on the wire and in the client's CPU is the framing.
 */
export interface EchoFraming {
  /** Bytes of the request frame carrying a `bodyBytes` body. */
  requestLength(bodyBytes: number): number;
  /** Writes the request frame for `id` into `into` at `at` (exactly requestLength bytes). */
  writeRequest(into: Buffer, at: number, id: number, body: Uint8Array): void;
  /** Bytes of the length prefix that starts every frame. */
  readonly prefixBytes: number;
  /** Whole frame length given the buffer that holds at least `prefixBytes` at `at`. */
  frameLength(bytes: Buffer, at: number): number;
  /**
   * The request id a reply frame answers, or -1 for a frame that answers no request (an
   * unsolicited event); throws when the reply is not a successful echo of `bodyBytes`.
   */
  replyId(frame: Buffer): number;
  /** The reply body's length, checked against the request's. */
  replyBodyBytes(frame: Buffer): number;
}

/**
 * A minimal pipelining client: any number of requests outstanding on one connection, matched
 * to replies by id. Requests made in one turn of the event loop are encoded straight into one
 * buffer and leave as one socket write; nothing else is allocated per request but its promise.
 */
export class PipelinedClient implements EchoTarget {
  private readonly waiters = new Map<
    number,
    { resolve(): void; reject(error: Error): void; bytes: number }
  >();
  private readonly queuedIds: number[] = [];
  private readonly queuedBodies: Uint8Array[] = [];
  private queuedBytes = 0;
  private nextId: number;
  private held: Buffer | undefined;
  private closedWith: Error | undefined;

  constructor(
    private readonly socket: TLSSocket,
    private readonly framing: EchoFraming,
    firstId = 0,
  ) {
    this.nextId = firstId;
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", (error) => this.fail(error));
    socket.on("close", () => this.fail(new Error("the echo server closed the connection")));
  }

  echo(body: Uint8Array): Promise<void> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const id = this.nextId;
    this.nextId = (this.nextId + 1) >>> 0 || 1;
    if (this.queuedIds.length === 0) {
      // nextTick runs after the whole microtask queue, i.e. after every loop that a burst of
      // replies woke up has queued its next request.
      process.nextTick(() => this.flush());
    }
    this.queuedIds.push(id);
    this.queuedBodies.push(body);
    this.queuedBytes += this.framing.requestLength(body.byteLength);
    return new Promise((resolve, reject) => {
      this.waiters.set(id, { resolve, reject, bytes: body.byteLength });
    });
  }

  close(): Promise<void> {
    if (this.socket.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once("close", () => resolve());
      this.socket.end();
    });
  }

  private flush(): void {
    if (this.closedWith) return;
    const out = Buffer.allocUnsafe(this.queuedBytes);
    let at = 0;
    for (let i = 0; i < this.queuedIds.length; i++) {
      const body = this.queuedBodies[i] as Uint8Array;
      this.framing.writeRequest(out, at, this.queuedIds[i] as number, body);
      at += this.framing.requestLength(body.byteLength);
    }
    this.queuedIds.length = 0;
    this.queuedBodies.length = 0;
    this.queuedBytes = 0;
    this.socket.write(out);
  }

  /** Frames inside one chunk are read in place; a frame split across chunks is joined once. */
  private onData(chunk: Buffer): void {
    const { prefixBytes } = this.framing;
    let at = 0;
    if (this.held) {
      // Complete the held frame with only its own bytes from this chunk.
      let held = this.held;
      if (held.byteLength < prefixBytes) {
        at = Math.min(prefixBytes - held.byteLength, chunk.byteLength);
        held = Buffer.concat([held, chunk.subarray(0, at)]);
        if (held.byteLength < prefixBytes) {
          this.held = held;
          return;
        }
      }
      const take = Math.min(this.framing.frameLength(held, 0) - held.byteLength, chunk.byteLength - at);
      held = Buffer.concat([held, chunk.subarray(at, at + take)]);
      at += take;
      if (held.byteLength < this.framing.frameLength(held, 0)) {
        this.held = held;
        return;
      }
      this.held = undefined;
      this.onReply(held);
    }
    while (chunk.byteLength - at >= prefixBytes) {
      const end = at + this.framing.frameLength(chunk, at);
      if (end > chunk.byteLength) break;
      this.onReply(chunk.subarray(at, end));
      at = end;
    }
    if (at < chunk.byteLength) this.held = chunk.subarray(at);
  }

  private onReply(frame: Buffer): void {
    let id: number;
    try {
      id = this.framing.replyId(frame);
    } catch (error) {
      return this.fail(error as Error);
    }
    if (id < 0) return;
    const waiter = this.waiters.get(id);
    if (!waiter) return this.fail(new Error(`reply for unknown id ${id}`));
    this.waiters.delete(id);
    const bytes = this.framing.replyBodyBytes(frame);
    if (bytes !== waiter.bytes) {
      waiter.reject(new Error(`echo returned ${bytes} bytes for ${waiter.bytes}`));
      return;
    }
    waiter.resolve();
  }

  private fail(error: Error): void {
    this.closedWith ??= error;
    const waiters = [...this.waiters.values()];
    this.waiters.clear();
    for (const waiter of waiters) waiter.reject(this.closedWith);
  }
}
