import { connect, type TLSSocket } from "node:tls";
import type { EchoTarget } from "../support/load.js";
import { encodeRawFrame, RawFrameSplitter } from "./raw-frame.js";

interface Pending {
  resolve(): void;
  reject(error: Error): void;
  bodyBytes: number;
}

/**
 * Pipelining client for the raw-TLS baseline: any number of requests outstanding on one
 * connection, matched to replies by id. Writes made in one turn of the event loop go out as
 * one socket write, which is what lets a pipelined client approach the floor at all.
 */
class RawTlsClient implements EchoTarget {
  private readonly splitter = new RawFrameSplitter();
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private batch: Buffer[] = [];
  private batchBytes = 0;
  private flushScheduled = false;
  private closedWith: Error | undefined;

  constructor(private readonly socket: TLSSocket) {
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.splitter.push(chunk, (frame) => this.onReply(frame)));
    socket.on("error", (error) => this.fail(error));
    socket.on("close", () => this.fail(new Error("raw-tls server closed the connection")));
  }

  echo(body: Uint8Array): Promise<void> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const id = this.nextId;
    this.nextId = (this.nextId + 1) >>> 0;
    const frame = encodeRawFrame(id, body);
    this.batch.push(frame);
    this.batchBytes += frame.byteLength;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      // nextTick runs after the whole microtask queue, i.e. after every loop that a burst of
      // replies woke up has queued its next request.
      process.nextTick(() => this.flush());
    }
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, bodyBytes: body.byteLength });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.socket.once("close", () => resolve());
      this.socket.end();
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.batch.length === 0 || this.closedWith) return;
    const chunk =
      this.batch.length === 1 ? (this.batch[0] as Buffer) : Buffer.concat(this.batch, this.batchBytes);
    this.batch = [];
    this.batchBytes = 0;
    this.socket.write(chunk);
  }

  private onReply(frame: Buffer): void {
    const id = frame.readUInt32BE(4);
    const waiter = this.pending.get(id);
    if (!waiter) return this.fail(new Error(`raw-tls reply for unknown id ${id}`));
    this.pending.delete(id);
    const bodyBytes = frame.byteLength - 8;
    if (bodyBytes !== waiter.bodyBytes) {
      waiter.reject(new Error(`raw-tls echo returned ${bodyBytes} bytes for ${waiter.bodyBytes}`));
      return;
    }
    waiter.resolve();
  }

  private fail(error: Error): void {
    this.closedWith ??= error;
    const waiters = [...this.pending.values()];
    this.pending.clear();
    for (const waiter of waiters) waiter.reject(this.closedWith);
  }
}

/** Opens one TLS connection to the raw-TLS baseline server, verifying it against `ca`. */
export function connectRawTls(host: string, port: number, ca: string): Promise<EchoTarget> {
  return new Promise((resolve, reject) => {
    const socket = connect(
      { host, port, ca, minVersion: "TLSv1.3", ALPNProtocols: ["oap-raw-bench"] },
      () => {
        socket.off("error", reject);
        resolve(new RawTlsClient(socket));
      },
    );
    socket.once("error", reject);
  });
}
