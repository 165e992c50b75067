// The frame's shapes, apart from the code that reads and writes them: the header codec builds
// Frames and the frame codec builds on the header codec, so neither owns these types.

export interface FrameHeader {
  /** Whole frame length, header included. */
  len: number;
  ver: number;
  flags: number;
  code: number;
  appProtoId: number;
  /** u128 tenant id. */
  tenantId: bigint;
  capLen: number;
  /** u64 correlation id. */
  corrId: bigint;
}

/** A decoded frame. `cap` and `payload` are views into the received bytes where possible. */
export interface Frame extends FrameHeader {
  cap: Uint8Array;
  payload: Uint8Array;
  /**
   * `corrId` as a number, set by FrameDecoder and decodeFrame: exact below 2^53, −1 from there
   * up. The stream table, the writer and the client use it so a request's path makes no
   * BigInt-to-number conversion (a runtime call in V8, several per request). Frames built by
   * hand may leave it out.
   */
  corrKey?: number;
}

/** What a sender supplies; `len`, `ver` and `capLen` are derived. */
export interface FrameInit {
  flags: number;
  code?: number;
  appProtoId: number;
  tenantId?: bigint;
  corrId: bigint;
  cap?: Uint8Array;
  payload?: Uint8Array;
}
