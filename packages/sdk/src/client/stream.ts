import type { CallScope } from "./call-scope.js";
import type { Exchange, ResponseHead } from "./exchange.js";

const EMPTY = new Uint8Array(0);

/**
 * A request/response stream (`client.stream()`): write the request body in pieces, read the
 * response head from `response` and its body with `for await`. Unread response bytes count
 * against the connection's buffer bound; reading them is what lets the socket resume.
 */
export class OapStream implements AsyncIterable<Buffer> {
  /** The response status and meta; rejects with the stream's error. */
  readonly response: Promise<ResponseHead>;
  private exchange: Exchange | undefined;
  private readonly opened: Promise<Exchange>;
  /** write/end calls made so far; the first one carries the START frame. */
  private calls = 0;

  /** @internal Use `client.stream()`. */
  constructor(opened: Promise<Exchange>, scope: CallScope) {
    this.opened = opened.then((exchange) => {
      this.exchange = exchange;
      exchange.finished.then(() => scope.dispose());
      // No write pending: announce the stream now so the node can start answering.
      if (this.calls === 0) exchange.send(EMPTY, false).catch(() => {});
      return exchange;
    });
    this.opened.catch(() => scope.dispose());
    this.response = this.opened.then((exchange) => exchange.head);
    // Errors also surface through iteration and write(); reading only one of them is fine.
    this.response.catch(() => {});
  }

  /** corr_id on the connection, once the stream is open. */
  get corrId(): bigint | undefined {
    return this.exchange?.corrId;
  }

  /** Sends a piece of request body; resolves once the socket can take more. */
  write(chunk: Uint8Array | string): Promise<void> {
    return this.send(toBytes(chunk), false);
  }

  /** Ends the request side, optionally with a last piece of body. */
  end(chunk?: Uint8Array | string): Promise<void> {
    return this.send(chunk === undefined ? EMPTY : toBytes(chunk), true);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    const exchange = await this.opened;
    yield* exchange.body;
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
  return typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk;
}
