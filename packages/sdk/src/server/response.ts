import {
  encodeStartPayload,
  errorFrame,
  Flags,
  type FrameWriter,
  HEADER_LEN,
  type Meta,
  OapError,
  type OpenStream,
} from "@omnigate/oap";
import type { ReplyOptions, ResponseWriter } from "./types.js";

/**
 * The response side of one request stream: turns reply/start/write/end into RESP frames
 * no larger than max_frame, and reports when the stream is over so its slot is freed.
 */
export class StreamResponse implements ResponseWriter {
  started = false;
  ended = false;
  private code = 200;
  private e2eFlag = 0;

  constructor(
    private readonly stream: OpenStream,
    private readonly writer: FrameWriter,
    private readonly maxFrame: number,
    private readonly onEnd: (stream: OpenStream, code: number) => void,
  ) {}

  reply(code: number, meta?: Meta, body?: Uint8Array, options?: ReplyOptions): void {
    if (this.ended) return;
    const payload = this.startPayload(meta, body);
    this.open(code, options);
    this.sendStart(payload, true);
  }

  async start(code: number, meta?: Meta, body?: Uint8Array, options?: ReplyOptions): Promise<void> {
    if (this.ended) return;
    const payload = this.startPayload(meta, body);
    this.open(code, options);
    this.sendStart(payload, false);
    await this.writer.drained();
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.ended) return;
    if (!this.started) throw new Error("write() before start()");
    this.sendBody(chunk, false);
    await this.writer.drained();
  }

  end(chunk?: Uint8Array): void {
    if (this.ended) return;
    if (!this.started) {
      this.reply(200, undefined, chunk);
      return;
    }
    this.sendBody(chunk ?? new Uint8Array(0), true);
  }

  fail(error: OapError): void {
    if (this.ended) return;
    this.writer.write(errorFrame(error, this.stream, this.started));
    this.finish(error.code);
  }

  /** The START payload, checked before anything is sent so a refusal can still be a clean error frame. */
  private startPayload(meta: Meta | undefined, body: Uint8Array | undefined): Buffer {
    if (this.started) throw new Error("the response already started; use write() and end()");
    const payload = encodeStartPayload(meta, body);
    const metaBytes = payload.byteLength - (body?.byteLength ?? 0);
    if (HEADER_LEN + metaBytes > this.maxFrame) {
      throw new OapError(
        "internal",
        `reply meta of ${metaBytes - 2} bytes does not fit in max_frame ${this.maxFrame}`,
      );
    }
    return payload;
  }

  private open(code: number, options: ReplyOptions | undefined): void {
    this.started = true;
    this.code = code;
    this.e2eFlag = options?.e2e ? Flags.APP_E2E : 0;
  }

  private sendStart(payload: Buffer, end: boolean): void {
    if (HEADER_LEN + payload.byteLength <= this.maxFrame) {
      this.writer.write(this.frame(Flags.START | (end ? Flags.END : 0), payload));
      if (end) this.finish(this.code);
      return;
    }
    // Too big for one frame: the START frame takes what fits, continuations carry the rest.
    const firstLen = this.maxFrame - HEADER_LEN;
    this.writer.write(this.frame(Flags.START, payload.subarray(0, firstLen)));
    this.sendBody(payload.subarray(firstLen), end);
  }

  private sendBody(chunk: Uint8Array, end: boolean): void {
    const room = this.maxFrame - HEADER_LEN;
    let offset = 0;
    do {
      const piece = chunk.subarray(offset, offset + room);
      offset += piece.byteLength;
      const last = offset >= chunk.byteLength;
      this.writer.write(this.frame(end && last ? Flags.END : 0, piece));
    } while (offset < chunk.byteLength);
    if (end) this.finish(this.code);
  }

  private frame(flags: number, payload: Uint8Array) {
    return {
      flags: Flags.RESP | this.e2eFlag | flags,
      code: this.code,
      appProtoId: this.stream.appProtoId,
      tenantId: this.stream.tenantId,
      corrId: this.stream.corrId,
      payload,
    };
  }

  private finish(code: number): void {
    this.ended = true;
    this.onEnd(this.stream, code);
  }
}
