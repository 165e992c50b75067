import { type Meta, utf8Bytes } from "@omnigate/oap/internal";
import type { ResponseHead } from "./call-stream.js";
import type { OapClientError } from "./errors.js";
import type { Exchange } from "./exchange.js";

const EMPTY = new Uint8Array(0);

/**
 * A request/response stream (`client.stream()`): write the request body in pieces, read the
 * response head from `response` and its body with `for await`. Unread response bytes count
 * against the connection's buffer bound; reading them, or `discard()`, is what lets the socket
 * resume.
 */
export class OapStream implements AsyncIterable<Buffer> {
  /** The response status and meta; rejects with the stream's error. */
  readonly response: Promise<ResponseHead>;
  private exchange: Exchange | undefined;
  private readonly opened: Promise<Exchange>;
  /** write/end calls made so far; the first one carries the START frame. */
  private calls = 0;
  private discarded = false;
  private cancelled: OapClientError | undefined;

  /**
   * @internal Use `client.stream()`. The exchange enforces the call's deadline and signal
   * once it is open (see Exchange and Connection).
   */
  constructor(opened: Promise<Exchange>) {
    this.opened = opened.then((exchange) => {
      this.exchange = exchange;
      if (this.cancelled) exchange.abandon(this.cancelled);
      if (this.discarded) exchange.body.discard();
      // No write pending: announce the stream now so the node can start answering.
      if (this.calls === 0) exchange.send(EMPTY, false).catch(() => {});
      return exchange;
    });
    this.response = this.opened.then((exchange) => exchange.head);
    // Errors also surface through iteration and write(); reading only one of them is fine.
    this.response.catch(() => {});
  }

  /** corr_id on the connection, once the stream is open. */
  get corrId(): bigint | undefined {
    return this.exchange?.corrId;
  }

  /** Response body bytes received and not read (nor discarded) yet. */
  get bufferedBytes(): number {
    return this.exchange?.body.bufferedBytes ?? 0;
  }

  /**
   * The whole response body without waiting, when the response has already ended and its body
   * was not read yet (a reply that came in one frame); otherwise undefined. Call it after
   * `response` resolved; once it returns a body, iteration ends at once.
   */
  completeBody(): Buffer | undefined {
    return this.exchange?.body.takeIfEnded();
  }

  /** Sends a piece of request body; resolves once the socket can take more. */
  write(chunk: Uint8Array | string): Promise<void> {
    return this.send(toBytes(chunk), false);
  }

  /** Ends the request side, optionally with a last piece of body. Later writes reject with `stream_ended`. */
  end(chunk?: Uint8Array | string): Promise<void> {
    return this.send(chunk === undefined ? EMPTY : toBytes(chunk), true);
  }

  /**
   * Sends a one-frame EVENT under this stream's corr_id, app and tenant, with meta `meta`
   * (`ackRequest`: with ACK_REQ, as a mailbox subscription's credit grant is). Goes out after
   * the START; nothing is sent once the node ended the stream. Rejects with the stream's error
   * once it failed.
   */
  sendEvent(meta: Meta, options: { ackRequest?: boolean } = {}): Promise<void> {
    const sent = this.opened.then((exchange) => exchange.sendEvent(meta, options.ackRequest ?? false));
    sent.catch(() => {});
    return sent;
  }

  /**
   * Drops the response body: what is buffered now and whatever still arrives for this stream,
   * releasing its bytes from the connection's buffer bound. Reading then ends at once. The
   * request side and `response` are unaffected; the stream keeps its slot until the node ends
   * it. Breaking out of `for await` (or calling the iterator's `return()`) does the same.
   */
  discard(): void {
    this.discarded = true;
    this.exchange?.body.discard();
  }

  /**
   * Gives the stream up, as an aborted signal would, but with `reason`: `response` and reading
   * reject with it, what is buffered is dropped, nothing more is sent. The stream keeps its slot
   * until the node ends it (OAP/1 has no cancel frame). No effect once it failed or ended.
   */
  cancel(reason: OapClientError): void {
    this.cancelled ??= reason;
    this.exchange?.abandon(reason);
  }

  /**
   * The response body, chunk by chunk (`for await (const chunk of stream)`); ends with the
   * stream and throws its error. Leaving the loop early discards the rest.
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<Buffer> {
    const iterator: AsyncIterableIterator<Buffer> = {
      next: async () => (await this.opened).body.next(),
      return: async () => {
        this.discard();
        return { value: undefined, done: true };
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  private send(bytes: Uint8Array, end: boolean): Promise<void> {
    this.calls++;
    const sent = this.opened.then((exchange) => exchange.send(bytes, end));
    // An ignored end()/write() must not crash the process; awaiting callers still see the error.
    sent.catch(() => {});
    return sent;
  }
}

export function toBytes(chunk: Uint8Array | string): Uint8Array {
  if (typeof chunk === "string") return utf8Bytes(chunk);
  // From JavaScript any typed array or DataView may come: send its bytes, not its elements.
  if (!(chunk instanceof Uint8Array) && ArrayBuffer.isView(chunk)) {
    const view = chunk as ArrayBufferView;
    return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  }
  return chunk;
}
