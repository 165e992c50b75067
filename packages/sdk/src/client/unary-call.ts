import { allocBytes, concatBytes, type Meta } from "@omnigate/oap/internal";
import { asClientError } from "./call-checks.js";
import type { CallBudget } from "./call-scope.js";
import type { CallTarget } from "./call-spec.js";
import { CallStream, type ResponseHead } from "./call-stream.js";
import { OapClientError } from "./errors.js";

export interface OapResponse extends ResponseHead {
  /** Every response body chunk, concatenated. */
  body: Buffer;
}

/**
 * One attempt of `client.request()` on a connection: the whole request goes out at once and
 * the response is collected as it arrives, settling one promise at the node's END. No head
 * promise, body queue or iterator: a small request costs one promise end to end.
 */
export class UnaryCall extends CallStream {
  readonly response: Promise<OapResponse>;
  private resolve!: (response: OapResponse) => void;
  private reject!: (error: unknown) => void;
  private code = 0;
  private meta: Meta | undefined;
  private e2e = false;
  /** The body so far: most responses have one chunk, so an array is made only for a second. */
  private first: Buffer | undefined;
  private more: Buffer[] | undefined;
  private received = 0;

  constructor(
    target: CallTarget,
    meta: Uint8Array | undefined,
    budget: CallBudget,
    private readonly maxResponseBytes: number,
  ) {
    super(target, meta, budget, true);
    this.response = new Promise<OapResponse>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  /** Sends the request: at once when it fits one frame; anything that stops it fails the call. */
  send(body: Uint8Array): void {
    try {
      const sent = this.sendPiece(body, true);
      if (typeof sent !== "boolean") sent.catch((error: unknown) => this.abandon(asClientError(error)));
    } catch (error) {
      this.abandon(asClientError(error));
    }
  }

  protected onHead(code: number, meta: Meta, e2e: boolean): void {
    this.code = code;
    this.meta = meta;
    this.e2e = e2e;
  }

  protected onBody(chunk: Buffer): void {
    this.received += chunk.length;
    if (this.received > this.maxResponseBytes) {
      // The rest of the body is dropped as it arrives; the stream stays tracked until END.
      this.abandon(
        new OapClientError(
          `the response body exceeds maxResponseBytes=${this.maxResponseBytes}; raise the bound or read it with stream()`,
          { code: 413, reason: "payload_too_large", corrId: this.corrId, retryable: false },
        ),
      );
      return;
    }
    if (this.first === undefined) this.first = chunk;
    else if (this.more === undefined) this.more = [this.first, chunk];
    else this.more.push(chunk);
  }

  protected onEnd(): void {
    this.unwatchSignal();
    const body = this.more ? concatBytes(this.more, this.received) : (this.first ?? allocBytes(0));
    this.resolve({ code: this.code, meta: this.meta as Meta, e2e: this.e2e, body });
  }

  protected onFail(error: OapClientError): void {
    this.unwatchSignal();
    this.first = undefined;
    this.more = undefined;
    this.reject(error);
  }
}
