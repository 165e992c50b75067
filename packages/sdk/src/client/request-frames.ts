import { Flags, type FrameInit, splitIntoFrames, startPayload } from "@omnigate/oap/internal";

/** The fixed identity of a request stream's frames. */
export interface RequestStreamId {
  appProtoId: number;
  tenantId: bigint;
  corrId: bigint;
  e2e: boolean;
  compressed?: boolean;
}

export interface RequestPiece {
  /** Present on the first piece of a stream: becomes the START frame (meta as made by encodeMeta). */
  start?: { meta: Uint8Array | undefined; cap: Uint8Array | undefined };
  body: Uint8Array;
  /** This piece ends the request side. */
  end: boolean;
}

/**
 * Cuts one piece of a request into frames no longer than `maxFrame` (see splitIntoFrames in
 * @omnigate/oap): a START frame carrying meta, the capability and as much body as fits, then
 * continuation frames with raw body, END on the last. Throws 413 frame_too_large when meta and
 * capability alone do not fit.
 */
export function requestFrames(id: RequestStreamId, piece: RequestPiece, maxFrame: number): FrameInit[] {
  const base = Flags.REQ | (id.e2e ? Flags.APP_E2E : 0) | (id.compressed ? Flags.COMP : 0);
  const start = piece.start;
  const cap = start?.cap;
  const pieces = splitIntoFrames({
    maxFrame,
    startPayloadHead: start ? startPayload(start.meta) : undefined,
    capLen: cap?.length ?? 0,
    body: piece.body,
    end: piece.end,
  });
  return pieces.map((p) => {
    const frame: FrameInit = {
      flags: base | (p.start ? Flags.START : 0) | (p.end ? Flags.END : 0),
      appProtoId: id.appProtoId,
      tenantId: id.tenantId,
      corrId: id.corrId,
      payload: p.payload,
    };
    if (p.start && cap && cap.length > 0) frame.cap = cap;
    return frame;
  });
}
