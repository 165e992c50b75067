import { DEFAULT_MAX_INFLIGHT, Flags } from "./constants.js";
import { OapError } from "./errors.js";
import type { Frame } from "./frame.js";

/** One request stream as the receiving side tracks it. */
export interface OpenStream {
  corrId: bigint;
  appProtoId: number;
  tenantId: bigint;
  /** The request side has seen its END frame. */
  requestEnded: boolean;
}

/** What the receiver should do with an incoming frame. */
export type StreamAction =
  | { kind: "start"; stream: OpenStream; frame: Frame }
  | { kind: "continue"; stream: OpenStream; frame: Frame }
  | { kind: "event"; frame: Frame }
  | { kind: "drop" }
  /** Fail the stream with this error; when `aborts` is set, that open stream is torn down too. */
  | { kind: "reject"; error: OapError; aborts?: OpenStream };

/** How many refused streams are remembered so their continuation frames are dropped quietly. */
const REFUSED_MEMORY = 1024;

/**
 * The stream rules of specs/oap-1.md §4 for the side that receives requests
 * (the node's gateway, and app backends built with the SDK's server side).
 * Pure bookkeeping: the caller owns I/O and calls `finish` when it sends the
 * final RESP|END of a stream.
 */
export class RequestStreamTable {
  private readonly open = new Map<bigint, OpenStream>();
  private readonly refused = new Set<bigint>();

  constructor(private readonly maxInflight = DEFAULT_MAX_INFLIGHT) {}

  get size(): number {
    return this.open.size;
  }

  get(corrId: bigint): OpenStream | undefined {
    return this.open.get(corrId);
  }

  streams(): IterableIterator<OpenStream> {
    return this.open.values();
  }

  classify(frame: Frame): StreamAction {
    const action = this.rules(frame);
    // An error frame ends its corr_id for the peer, so an open stream under it ends too.
    if (action.kind === "reject" && !action.aborts) {
      const open = this.open.get(frame.corrId);
      if (open) {
        this.open.delete(frame.corrId);
        return { ...action, aborts: open };
      }
    }
    return action;
  }

  private rules(frame: Frame): StreamAction {
    if (frame.flags & Flags.EVENT) return { kind: "event", frame };
    if (frame.flags & Flags.RESP) {
      return violation("RESP frames flow from server to client only");
    }
    if (frame.code !== 0) return violation(`request frames carry code 0, not ${frame.code}`);
    return frame.flags & Flags.START ? this.start(frame) : this.continuation(frame);
  }

  /** The final RESP|END for this stream was sent (or the stream was aborted). */
  finish(corrId: bigint): void {
    this.open.delete(corrId);
  }

  /**
   * The receiver refused a stream it had opened (e.g. unknown app, bad meta): forget it,
   * and drop the rest of its request frames quietly if the request has not ended.
   */
  refuse(stream: OpenStream): void {
    this.open.delete(stream.corrId);
    if (!stream.requestEnded) this.rememberRefused(stream.corrId);
  }

  private start(frame: Frame): StreamAction {
    if (this.open.has(frame.corrId)) {
      return violation(`corr_id ${frame.corrId} already has an open stream`);
    }
    const ended = (frame.flags & Flags.END) !== 0;
    if (this.open.size >= this.maxInflight) {
      if (!ended) this.rememberRefused(frame.corrId);
      return {
        kind: "reject",
        error: new OapError(
          "too_many_streams",
          `more than max_inflight=${this.maxInflight} open streams on this connection`,
          { retryAfterMs: 100 },
        ),
      };
    }
    this.refused.delete(frame.corrId);
    const stream: OpenStream = {
      corrId: frame.corrId,
      appProtoId: frame.appProtoId,
      tenantId: frame.tenantId,
      requestEnded: ended,
    };
    this.open.set(frame.corrId, stream);
    return { kind: "start", stream, frame };
  }

  private continuation(frame: Frame): StreamAction {
    if (this.refused.has(frame.corrId)) {
      if (frame.flags & Flags.END) this.refused.delete(frame.corrId);
      return { kind: "drop" };
    }
    const stream = this.open.get(frame.corrId);
    if (!stream) return violation(`no open stream for corr_id ${frame.corrId}`);
    if (stream.requestEnded) return violation(`the request side of corr_id ${frame.corrId} already ended`);
    if (stream.appProtoId !== frame.appProtoId || stream.tenantId !== frame.tenantId) {
      return violation("continuation frame changes app_proto_id or tenant_id");
    }
    if (frame.flags & Flags.END) stream.requestEnded = true;
    return { kind: "continue", stream, frame };
  }

  private rememberRefused(corrId: bigint): void {
    if (this.refused.size >= REFUSED_MEMORY) {
      const oldest = this.refused.values().next().value;
      if (oldest !== undefined) this.refused.delete(oldest);
    }
    this.refused.add(corrId);
  }
}

function violation(message: string): StreamAction {
  return { kind: "reject", error: new OapError("stream_violation", message) };
}
