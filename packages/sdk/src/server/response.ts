import {
  encodeStartPayload,
  errorFrame,
  Flags,
  type FrameWriter,
  HEADER_LEN,
  type Meta,
  type OapError,
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
    this.open(code, options);
    this.sendStart(meta, body, true);
  }

  async start(code: number, meta?: Meta, body?: Uint8Array, options?: ReplyOptions): Promise<void> {
    if (this.ended) return;
    if (this.started) throw new Error("response already started");
    this.open(code, options);
    this.sendStart(meta, body, false);
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

  private open(code: number, options: ReplyOptions | undefined): void {
    this.started = true;
    this.code = code;
    this.e2eFlag = options?.e2e ? Flags.APP_E2E : 0;
  }

  private sendStart(meta: Meta | undefined, body: Uint8Array | undefined, end: boolean): void {
    const bodyLen = body?.byteLength ?? 0;
    const payload = encodeStartPayload(meta, body);
    if (HEADER_LEN + payload.byteLength <= this.maxFrame) {
      this.writer.write(this.frame(Flags.START | (end ? Flags.END : 0), payload));
      if (end) this.finish(this.code);
      return;
    }
    // Too big for one frame: the START frame takes what fits, continuations carry the rest.
    const room = this.maxFrame - HEADER_LEN - (payload.byteLength - bodyLen);
    this.writer.write(this.frame(Flags.START, payload.subarray(0, payload.byteLength - bodyLen + room)));
    this.sendBody((body as Uint8Array).subarray(room), end);
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
