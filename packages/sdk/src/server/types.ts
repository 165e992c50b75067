import type { Meta, OapError } from "@omnigate/oap";
import type { ConnectionContext } from "./connection-context.js";

/** A request stream as a service sees it. */
export interface IncomingRequest {
  /** The stream's id on its connection. */
  corrId: bigint;
  /** The app the request is for (what routed it here). */
  appProtoId: number;
  /** The tenant the request acts for, as the node admitted it. */
  tenantId: bigint;
  /** The request's meta map, decoded. */
  meta: Meta;
  /** The body is end-to-end encrypted by the app: route it, never inspect it. */
  e2e: boolean;
  /**
   * The body is still zstd-compressed (COMP on an APP_E2E request, which is never inflated):
   * forward it with COMP. Every other COMP body arrives here already inflated.
   */
  compressed: boolean;
  /** Capability bytes from the START frame (empty when none). */
  cap: Uint8Array;
  /** Body bytes the START frame carried (what admission can meter before the service runs). */
  startBodyBytes: number;
  /** Body chunks as they arrive; can be read once. */
  body: AsyncIterable<Uint8Array>;
  /**
   * The whole body, without waiting, when the request has already ended and its body was
   * not read yet (the common single-frame request); otherwise undefined.
   */
  completeBody(): Uint8Array | undefined;
  /** Aborted when the stream is torn down: connection closed, deadline passed, stream violation. */
  signal: AbortSignal;
  /**
   * Date.now() at which the stream fails with 504 `timeout`: the client's `deadline_ms`, capped
   * by the server's limits. A service waiting on something that may stall answers before it.
   */
  deadline: number;
  /**
   * Date.now() when the node took the request in: read once per read from the connection, so
   * the requests of one read share it. Admission and capability checks use it instead of
   * reading the clock again.
   */
  receivedAt: number;
  /** Remote address of the connection, "ip:port". */
  peer: string;
  /**
   * The connection the request arrived on: per-connection state, pushed events. For the node's
   * own services; in an app backend it is one of the node's pooled connections, shared by many
   * clients, so it is left out of the API reference.
   *
   * @internal
   */
  connection: ConnectionContext;
}

/** Options of a body write (`res.write()`, `res.end()`). */
export interface BodyOptions {
  /**
   * Called once the connection is done with the body's bytes, so the service may reuse their
   * buffer from then on; not before, as large bodies are written by reference, not copied.
   */
  onWritten?: () => void;
}

/** Options of `res.reply()` and `res.start()`. */
export interface ReplyOptions extends BodyOptions {
  /** Mark response bodies as APP_E2E. */
  e2e?: boolean;
}

/** The response side of one stream. Every method is a no-op once the stream ended. */
export interface ResponseWriter {
  /** The first response frame has been sent: the status and meta can no longer change. */
  readonly started: boolean;
  /** The response has ended (or the stream was torn down): nothing more can be sent. */
  readonly ended: boolean;
  /** Sends the whole response in one go (split across frames if it exceeds max_frame). */
  reply(code: number, meta?: Meta, body?: Uint8Array, options?: ReplyOptions): void;
  /** Sends the first response frame; follow with write()/end(). */
  start(code: number, meta?: Meta, body?: Uint8Array, options?: ReplyOptions): Promise<void>;
  /** Sends a body chunk; resolves when the connection can take more (backpressure). */
  write(chunk: Uint8Array, options?: BodyOptions): Promise<void>;
  /** Ends the response, optionally with a last chunk. */
  end(chunk?: Uint8Array, options?: BodyOptions): void;
  /** Ends the stream with an error frame. */
  fail(error: OapError): void;
}

/**
 * An EVENT frame from the peer (specs/oap-1.md §4.5). It belongs to no request stream; what
 * its corr_id names is up to the service that takes it (the mailbox: a subscription).
 */
export interface IncomingEvent {
  corrId: bigint;
  appProtoId: number;
  tenantId: bigint;
  /** The frame carried START (its payload has the START layout) and END: a one-frame event. */
  start: boolean;
  end: boolean;
  /** ACK_REQ: the peer asks for an acknowledgement, or grants push credit. */
  ackRequested: boolean;
  /** APP_E2E: the body is end-to-end encrypted by the app. */
  e2e: boolean;
  /** Meta of a START frame; empty otherwise. */
  meta: Meta;
  body: Uint8Array;
  /** The connection the event arrived on. */
  connection: ConnectionContext;
}

/** A service routed by app_proto_id. */
export interface Service {
  readonly appProtoId: number;
  readonly name: string;
  handle(req: IncomingRequest, res: ResponseWriter): void | Promise<void>;
  /**
   * Takes an EVENT frame sent to this service; throw an OapError to refuse it. Without this
   * method the service takes no events (400 `unsupported`).
   */
  event?(event: IncomingEvent): void;
}
