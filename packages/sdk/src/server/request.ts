import type { Frame, Meta } from "@omnigate/oap";
import { BodyQueue, chunkCost } from "./body-queue.js";
import type { ConnectionContext } from "./connection-context.js";
import type { IncomingRequest } from "./types.js";

/** What a request is made of: its START frame, decoded, and the session's hook for consumed bytes. */
export interface ServerRequestInit {
  /** The START frame: corr_id, app id, tenant and capability are taken from it. */
  frame: Pick<Frame, "corrId" | "appProtoId" | "tenantId" | "cap">;
  /** The START frame's meta, decoded. */
  meta: Meta;
  /** The body is APP_E2E: the app's bytes, passed through untouched. */
  e2e: boolean;
  /** The body is still zstd-compressed (COMP on an APP_E2E request, which the node never inflates). */
  compressed: boolean;
  /** The connection the request came on (its peer, state and pushed events). */
  connection: ConnectionContext;
  /** The START frame's body (already inflated when it was COMP and not APP_E2E). */
  body: Uint8Array;
  /** The START frame carried END too: `body` is the whole request body. */
  requestEnded: boolean;
  /** Date.now() at which the stream fails with 504 `timeout`. */
  deadline: number;
  /** Date.now() as the session read it for the read that carried the START frame. */
  receivedAt: number;
  /** Called with the cost of body bytes once they are read or dropped (the connection's read buffer). */
  onConsumed: (cost: number) => void;
}

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

  readonly corrId: bigint;
  readonly appProtoId: number;
  readonly tenantId: bigint;
  readonly cap: Uint8Array;
  readonly meta: Meta;
  readonly e2e: boolean;
  readonly compressed: boolean;
  readonly connection: ConnectionContext;
  readonly deadline: number;
  readonly receivedAt: number;
  private readonly onConsumed: (cost: number) => void;

  constructor(init: ServerRequestInit) {
    const { frame, body } = init;
    ({ corrId: this.corrId, appProtoId: this.appProtoId, tenantId: this.tenantId, cap: this.cap } = frame);
    ({ meta: this.meta, e2e: this.e2e, compressed: this.compressed, connection: this.connection } = init);
    this.deadline = init.deadline;
    this.receivedAt = init.receivedAt;
    this.onConsumed = init.onConsumed;
    this.startBodyBytes = body.length;
    this.firstBody = body.length > 0 ? body : undefined;
    this.ended = init.requestEnded;
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
