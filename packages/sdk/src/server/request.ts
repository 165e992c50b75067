import type { Meta } from "@omnigate/oap";
import { BodyQueue, chunkCost } from "./body-queue.js";
import type { ConnectionContext } from "./connection-context.js";
import type { IncomingRequest } from "./types.js";

/**
 * A request stream as services see it. The abort controller and the body queue are made
 * only when a service (or a continuation frame) needs them: most requests are one frame
 * whose body is already complete, and those allocations cost more than the rest of the
 * request on the hot path.
 */
export class ServerRequest implements IncomingRequest {
  private controller: AbortController | undefined;
  private queue: BodyQueue | undefined;
  /** The START frame's body, while no queue exists. */
  private firstBody: Uint8Array | undefined;
  private ended: boolean;
  private abortReason: Error | undefined;
  readonly startBodyBytes: number;

  constructor(
    readonly corrId: bigint,
    readonly appProtoId: number,
    readonly tenantId: bigint,
    readonly meta: Meta,
    readonly e2e: boolean,
    readonly compressed: boolean,
    readonly cap: Uint8Array,
    readonly connection: ConnectionContext,
    firstBody: Uint8Array,
    requestEnded: boolean,
    private readonly onConsumed: (cost: number) => void,
  ) {
    this.startBodyBytes = firstBody.byteLength;
    this.firstBody = firstBody.byteLength > 0 ? firstBody : undefined;
    this.ended = requestEnded;
  }

  get peer(): string {
    return this.connection.peer;
  }

  /** What the START frame's body costs against the connection's read buffer (charged by the session). */
  get firstBodyCost(): number {
    return this.firstBody ? chunkCost(this.firstBody) : 0;
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.abortReason) this.controller.abort(this.abortReason);
    }
    return this.controller.signal;
  }

  get body(): AsyncIterable<Uint8Array> {
    return this.bodyQueue();
  }

  completeBody(): Uint8Array | undefined {
    if (!this.queue) {
      if (!this.ended || this.abortReason) return undefined;
      const body = this.firstBody ?? new Uint8Array(0);
      this.dropFirstBody();
      return body;
    }
    return this.queue.takeIfEnded();
  }

  /** A continuation frame's body; returns its cost against the connection's read buffer. */
  push(chunk: Uint8Array): number {
    return this.bodyQueue().push(chunk);
  }

  endBody(): void {
    this.ended = true;
    this.queue?.end();
  }

  /** Tears the request down: the signal fires and body readers get `reason`. */
  abort(reason: Error): void {
    if (this.abortReason) return;
    this.abortReason = reason;
    this.dropFirstBody();
    this.controller?.abort(reason);
    this.queue?.fail(reason);
  }

  /** Drops unread body bytes (the reply ended without reading them). */
  release(): void {
    this.dropFirstBody();
    this.queue?.release();
  }

  private dropFirstBody(): void {
    const cost = this.firstBodyCost;
    this.firstBody = undefined;
    if (cost > 0) this.onConsumed(cost);
  }

  private bodyQueue(): BodyQueue {
    if (!this.queue) {
      this.queue = new BodyQueue(this.onConsumed);
      if (this.abortReason) this.queue.fail(this.abortReason);
      else {
        // Already charged by the session; the queue reports it consumed when it is read.
        if (this.firstBody) this.queue.push(this.firstBody);
        this.firstBody = undefined;
        if (this.ended) this.queue.end();
      }
    }
    return this.queue;
  }
}
