import { DEFAULT_MAX_INFLIGHT, Flags } from "./constants.js";
import { CorrIdMap } from "./corr-id-map.js";
import { OapError } from "./errors.js";
import type { Frame } from "./frame-types.js";
import { exactCorrKey } from "./header.js";

/** One request stream as the receiving side tracks it. */
export interface OpenStream {
  corrId: bigint;
  appProtoId: number;
  tenantId: bigint;
  /** The request side has seen its END frame. */
  requestEnded: boolean;
  /** Whatever the receiver keeps for this stream (the session's live request and response). */
  state: unknown;
  /** The table's key for it (corrKey of its corr_id). */
  readonly key: CorrKey;
}

/** Map key for a corr_id: a number while it is exact (they hash far faster than BigInts). */
export type CorrKey = number | bigint;

export function corrKey(corrId: bigint): CorrKey {
  const exact = exactCorrKey(corrId);
  return exact >= 0 ? exact : corrId;
}

/** A frame's key: the number the decoder read (no BigInt conversion), else from its corr_id. */
function frameKey(frame: Frame): CorrKey {
  const key = frame.corrKey;
  return key !== undefined && key >= 0 ? key : corrKey(frame.corrId);
}

/**
 * Open streams by corr_id: a CorrIdMap for the ids every real client uses (below 2^53, where
 * a churning Map would promote per-request garbage; see CorrIdMap), a Map for the rest.
 */
class OpenStreams {
  private readonly small = new CorrIdMap<OpenStream>();
  private readonly large = new Map<bigint, OpenStream>();

  get size(): number {
    return this.small.size + this.large.size;
  }

  get(key: CorrKey): OpenStream | undefined {
    return typeof key === "number" ? this.small.get(key) : this.large.get(key);
  }

  has(key: CorrKey): boolean {
    return this.get(key) !== undefined;
  }

  set(key: CorrKey, stream: OpenStream): void {
    if (typeof key === "number") this.small.set(key, stream);
    else this.large.set(key, stream);
  }

  delete(key: CorrKey): void {
    if (typeof key === "number") this.small.delete(key);
    else this.large.delete(key);
  }

  values(): OpenStream[] {
    return this.large.size === 0
      ? this.small.valuesArray()
      : [...this.small.valuesArray(), ...this.large.values()];
  }
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
/** Retry hint for a START refused at max_inflight: a slot frees as soon as any reply ends. */
const TOO_MANY_STREAMS_RETRY_MS = 100;

/**
 * The stream rules of specs/oap-1.md §4 for the side that receives requests
 * (the node's gateway, and app backends built with the SDK's server side).
 * Pure bookkeeping: the caller owns I/O and calls `finish` when it sends the
 * final RESP|END of a stream.
 */
export class RequestStreamTable {
  private readonly open = new OpenStreams();
  private readonly refused = new Set<CorrKey>();

  constructor(private readonly maxInflight = DEFAULT_MAX_INFLIGHT) {}

  get size(): number {
    return this.open.size;
  }

  get(corrId: bigint): OpenStream | undefined {
    return this.open.get(corrKey(corrId));
  }

  /** A snapshot of the open streams. */
  streams(): OpenStream[] {
    return this.open.values();
  }

  classify(frame: Frame): StreamAction {
    const key = frameKey(frame);
    const action = this.rules(frame, key);
    // An error frame ends its corr_id for the peer, so an open stream under it ends too.
    if (action.kind === "reject" && !action.aborts) {
      const open = this.open.get(key);
      if (open) {
        this.open.delete(key);
        return { ...action, aborts: open };
      }
    }
    return action;
  }

  /** The final RESP|END for this stream was sent (or the stream was aborted). */
  finish(stream: OpenStream): void {
    this.open.delete(stream.key);
  }

  /**
   * The receiver refused a stream it had opened (e.g. unknown app, bad meta): forget it,
   * and drop the rest of its request frames quietly if the request has not ended.
   */
  refuse(stream: OpenStream): void {
    const key = stream.key;
    this.open.delete(key);
    if (!stream.requestEnded) this.rememberRefused(key);
  }

  private rules(frame: Frame, key: CorrKey): StreamAction {
    if (frame.flags & Flags.EVENT) return { kind: "event", frame };
    if (frame.flags & Flags.RESP) {
      return violation("RESP frames flow from server to client only");
    }
    if (frame.code !== 0) return violation(`request frames carry code 0, not ${frame.code}`);
    return frame.flags & Flags.START ? this.start(frame, key) : this.continuation(frame, key);
  }

  private start(frame: Frame, key: CorrKey): StreamAction {
    if (this.open.has(key)) {
      return violation(`corr_id ${frame.corrId} already has an open stream`);
    }
    const ended = (frame.flags & Flags.END) !== 0;
    if (this.open.size >= this.maxInflight) {
      if (!ended) this.rememberRefused(key);
      return {
        kind: "reject",
        error: new OapError(
          "too_many_streams",
          `more than max_inflight=${this.maxInflight} open streams on this connection`,
          { retryAfterMs: TOO_MANY_STREAMS_RETRY_MS },
        ),
      };
    }
    if (this.refused.size > 0) this.refused.delete(key);
    const stream: OpenStream = {
      corrId: frame.corrId,
      appProtoId: frame.appProtoId,
      tenantId: frame.tenantId,
      requestEnded: ended,
      state: undefined,
      key,
    };
    this.open.set(key, stream);
    return { kind: "start", stream, frame };
  }

  private continuation(frame: Frame, key: CorrKey): StreamAction {
    if (this.refused.size > 0 && this.refused.has(key)) {
      if (frame.flags & Flags.END) this.refused.delete(key);
      return { kind: "drop" };
    }
    const stream = this.open.get(key);
    if (!stream) return violation(`no open stream for corr_id ${frame.corrId}`);
    if (stream.requestEnded) return violation(`the request side of corr_id ${frame.corrId} already ended`);
    if (stream.appProtoId !== frame.appProtoId || stream.tenantId !== frame.tenantId) {
      return violation("continuation frame changes app_proto_id or tenant_id");
    }
    if (frame.flags & Flags.END) stream.requestEnded = true;
    return { kind: "continue", stream, frame };
  }

  private rememberRefused(key: CorrKey): void {
    if (this.refused.size >= REFUSED_MEMORY) {
      const oldest = this.refused.values().next().value;
      if (oldest !== undefined) this.refused.delete(oldest);
    }
    this.refused.add(key);
  }
}

function violation(message: string): StreamAction {
  return { kind: "reject", error: new OapError("stream_violation", message) };
}
