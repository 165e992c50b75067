import {
  encodeMeta,
  encodeStartPayload,
  errorFrame,
  Flags,
  type FramePiece,
  type FrameWriter,
  HEADER_LEN,
  type Meta,
  OapError,
  type OpenStream,
  type Reason,
  splitIntoFrames,
} from "@omnigate/oap/internal";
import type { BodyOptions, ReplyOptions, ResponseWriter } from "./types.js";

const EMPTY = new Uint8Array(0);

/**
 * The response side of one stream: turns reply/start/write/end into RESP frames no larger
 * than max_frame, and reports when the stream is over so its slot is freed.
 */
export class StreamResponse implements ResponseWriter {
  started = false;
  ended = false;
  /** Frame bytes sent on this stream, headers included (for metrics). */
  bytesOut = 0;
  /** The reason of the error frame that ended the stream, if one did. */
  failure: Reason | undefined;
  private code = 200;
  private e2eFlag = 0;

  constructor(
    private readonly stream: OpenStream,
    private readonly writer: FrameWriter,
    private readonly maxFrame: number,
    private readonly onEnd: (stream: OpenStream, code: number) => void,
  ) {}

  /** The stream's corr_id as a number for the writer (−1 above 2^53): no BigInt conversion per frame. */
  private get corrKey(): number {
    const key = this.stream.key;
    return typeof key === "number" ? key : -1;
  }

  reply(code: number, meta?: Meta, body?: Uint8Array, options?: ReplyOptions): void {
    const onWritten = options?.onWritten;
    if (this.ended) return onWritten?.();
    if (this.started) throw new Error("the response already started; use write() and end()");
    // The common case, one frame, is encoded straight into the writer's batch.
    const metaJson = serviceMeta(meta);
    const bodyLen = body?.length ?? 0;
    if (HEADER_LEN + 2 + (metaJson?.length ?? 0) + bodyLen <= this.maxFrame) {
      this.begin(code, options);
      this.bytesOut += HEADER_LEN + 2 + (metaJson?.length ?? 0) + bodyLen;
      this.writer.writeStart(
        {
          flags: Flags.RESP | Flags.START | Flags.END | this.e2eFlag,
          code,
          appProtoId: this.stream.appProtoId,
          tenantId: this.stream.tenantId,
          corrId: this.stream.corrId,
          corrKey: this.corrKey,
          meta: metaJson,
          body,
        },
        onWritten,
      );
      return this.finish(code);
    }
    this.send(this.firstPieces(meta, body, true), code, options);
  }

  async start(code: number, meta?: Meta, body?: Uint8Array, options?: ReplyOptions): Promise<void> {
    if (this.ended) return options?.onWritten?.();
    this.send(this.firstPieces(meta, body, false), code, options);
    await this.writer.drained();
  }

  async write(chunk: Uint8Array, options?: BodyOptions): Promise<void> {
    if (this.ended) return options?.onWritten?.();
    if (!this.started) throw new Error("write() before start()");
    this.sendPieces(
      splitIntoFrames({ maxFrame: this.maxFrame, body: chunk, end: false }),
      options?.onWritten,
    );
    await this.writer.drained();
  }

  end(chunk?: Uint8Array, options?: BodyOptions): void {
    if (this.ended) return options?.onWritten?.();
    if (!this.started) return this.reply(200, undefined, chunk, options);
    this.sendPieces(
      splitIntoFrames({ maxFrame: this.maxFrame, body: chunk ?? EMPTY, end: true }),
      options?.onWritten,
    );
  }

  fail(error: OapError): void {
    if (this.ended) return;
    const frame = errorFrame(error, this.stream, this.started);
    this.bytesOut += HEADER_LEN + (frame.payload?.length ?? 0);
    this.failure = error.reason;
    this.writer.write(frame);
    this.finish(error.code);
  }

  /** The START frame and what follows it, worked out before anything is sent so a refusal stays a clean error. */
  private firstPieces(meta: Meta | undefined, body: Uint8Array | undefined, end: boolean): FramePiece[] {
    if (this.started) throw new Error("the response already started; use write() and end()");
    try {
      return splitIntoFrames({
        maxFrame: this.maxFrame,
        startPayloadHead: encodeStartPayload(meta),
        body: body ?? EMPTY,
        end,
      });
    } catch (err) {
      // Meta that cannot fit a frame is the service's bug, not the client's.
      throw err instanceof OapError ? new OapError("internal", `reply rejected: ${err.message}`) : err;
    }
  }

  private send(pieces: FramePiece[], code: number, options: ReplyOptions | undefined): void {
    this.begin(code, options);
    this.sendPieces(pieces, options?.onWritten);
  }

  private begin(code: number, options: ReplyOptions | undefined): void {
    this.started = true;
    this.code = code;
    this.e2eFlag = options?.e2e ? Flags.APP_E2E : 0;
  }

  /** Writes the frames; `onWritten` runs once the connection is done with all their payloads. */
  private sendPieces(pieces: FramePiece[], onWritten?: () => void): void {
    let unwritten = pieces.length;
    const pieceWritten = onWritten && (() => --unwritten === 0 && onWritten());
    if (onWritten && unwritten === 0) onWritten();
    for (const piece of pieces) {
      this.bytesOut += HEADER_LEN + piece.payload.length;
      this.writer.write(
        {
          flags: Flags.RESP | this.e2eFlag | (piece.start ? Flags.START : 0) | (piece.end ? Flags.END : 0),
          code: this.code,
          appProtoId: this.stream.appProtoId,
          tenantId: this.stream.tenantId,
          corrId: this.stream.corrId,
          corrKey: this.corrKey,
          payload: piece.payload,
        },
        pieceWritten,
      );
      if (piece.end) this.finish(this.code);
    }
  }

  private finish(code: number): void {
    this.ended = true;
    this.onEnd(this.stream, code);
  }
}

/** Encodes a reply's meta; meta that cannot be encoded is the service's bug, so 500, not the client's 400. */
function serviceMeta(meta: Meta | undefined): Uint8Array | undefined {
  try {
    return encodeMeta(meta);
  } catch (err) {
    throw err instanceof OapError ? new OapError("internal", `reply rejected: ${err.message}`) : err;
  }
}
