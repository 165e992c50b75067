import { encodeStartPayload, Flags, type FrameInit, HEADER_LEN, type Meta, OapError } from "@omnigate/oap";

/** The fixed identity of a request stream's frames. */
export interface RequestStreamId {
  appProtoId: number;
  tenantId: bigint;
  corrId: bigint;
  e2e: boolean;
}

export interface RequestPiece {
  /** Present on the first piece of a stream: becomes the START frame. */
  start?: { meta: Meta; cap: Uint8Array | undefined };
  body: Uint8Array;
  /** This piece ends the request side. */
  end: boolean;
}

/**
 * Cuts one piece of a request into frames no longer than `maxFrame`: a START frame carrying
 * meta (and as much body as fits), then continuation frames with raw body, END on the last.
 */
export function* requestFrames(
  id: RequestStreamId,
  piece: RequestPiece,
  maxFrame: number,
): Generator<FrameInit> {
  const base = id.e2e ? Flags.REQ | Flags.APP_E2E : Flags.REQ;
  const frame = (flags: number, payload: Uint8Array, cap?: Uint8Array): FrameInit => ({
    flags,
    appProtoId: id.appProtoId,
    tenantId: id.tenantId,
    corrId: id.corrId,
    payload,
    ...(cap && cap.byteLength > 0 ? { cap } : {}),
  });
  const { body } = piece;
  let offset = 0;

  if (piece.start) {
    const prefix = encodeStartPayload(piece.start.meta);
    const capLen = piece.start.cap?.byteLength ?? 0;
    const room = maxFrame - HEADER_LEN - capLen - prefix.byteLength;
    if (room < 0) {
      throw new OapError(
        "frame_too_large",
        `meta (${prefix.byteLength - 2} bytes) and capability (${capLen} bytes) do not fit in max_frame ${maxFrame}; send less meta`,
      );
    }
    offset = Math.min(room, body.byteLength);
    const payload = offset === 0 ? prefix : Buffer.concat([prefix, body.subarray(0, offset)]);
    const last = offset === body.byteLength;
    yield frame(base | Flags.START | (last && piece.end ? Flags.END : 0), payload, piece.start.cap);
    if (last) return;
  } else if (body.byteLength === 0) {
    if (piece.end) yield frame(base | Flags.END, body);
    return;
  }

  const step = maxFrame - HEADER_LEN;
  while (offset < body.byteLength) {
    const next = Math.min(offset + step, body.byteLength);
    const last = next === body.byteLength;
    yield frame(base | (last && piece.end ? Flags.END : 0), body.subarray(offset, next));
    offset = next;
  }
}
