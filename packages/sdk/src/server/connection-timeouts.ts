/** The connection-level time limits of a session (each in ms). */
export interface ConnectionTimeoutLimits {
  /** After the TLS handshake, until the first complete frame header. */
  firstHeaderTimeoutMs: number;
  /** From a frame's first byte to its last (slow-loris). */
  frameTimeoutMs: number;
  /** No open stream and nothing received. */
  idleTimeoutMs: number;
  /** Replies backed up with no byte leaving for this long (a client that does not read). */
  writeStallTimeoutMs: number;
}

export type TimeoutKind = "first_header" | "frame" | "idle" | "write_stall";

/**
 * The clocks behind a connection's time limits. The session feeds it what it sees (bytes
 * received, frames completed, the write queue) and a periodic sweep asks what expired, so
 * the hot path only stores timestamps and no timer is armed per connection or per frame.
 */
export class ConnectionTimeouts {
  private headerSeen = false;
  /** When the frame still being received started arriving; -1 when no frame is partial. */
  private partialSince = -1;
  private readonly openedAt: number;
  private lastActivity: number;
  /** Since when replies are queued above the bound without progress; -1 when not stalled. */
  private stalledSince = -1;
  private flushedAtStall = 0;

  constructor(
    private readonly limits: ConnectionTimeoutLimits,
    openedAt: number,
  ) {
    this.openedAt = openedAt;
    this.lastActivity = openedAt;
  }

  /**
   * After a chunk was decoded: `newFrame` says a frame completed in it (so any partial
   * frame now is a new one), `pendingBytes` what the decoder holds of the next frame.
   */
  received(now: number, newFrame: boolean, pendingBytes: number, partialHeader: boolean): void {
    this.lastActivity = now;
    if (newFrame || partialHeader) this.headerSeen = true;
    if (pendingBytes === 0) this.partialSince = -1;
    else if (newFrame || this.partialSince < 0) this.partialSince = now;
  }

  /** Streams are open at `now`: the connection is busy, not idle. */
  active(now: number): void {
    this.lastActivity = now;
  }

  /** Which limit has passed at `now`, if any. */
  expired(
    now: number,
    /** False while the session itself stopped reading (backpressure): a partial frame is then not the peer's fault. */
    reading: boolean,
    openStreams: number,
    /** Replies are backed up: over the write-queue bound, or reading stopped because of it. */
    writeBacklog: boolean,
    /** Reply bytes the socket has passed on so far: unchanged means the peer took nothing. */
    flushedBytes: number,
  ): TimeoutKind | undefined {
    const { firstHeaderTimeoutMs, frameTimeoutMs, idleTimeoutMs, writeStallTimeoutMs } = this.limits;
    if (writeBacklog) {
      if (this.stalledSince < 0 || flushedBytes !== this.flushedAtStall) {
        this.stalledSince = now;
        this.flushedAtStall = flushedBytes;
      } else if (now - this.stalledSince >= writeStallTimeoutMs) {
        return "write_stall";
      }
    } else {
      this.stalledSince = -1;
    }
    if (this.partialSince >= 0) {
      if (!reading) this.partialSince = now;
      else if (now - this.partialSince >= frameTimeoutMs) return "frame";
    }
    // Bytes that never make up a header do not buy time: the clock runs from the handshake.
    if (!this.headerSeen) return now - this.openedAt >= firstHeaderTimeoutMs ? "first_header" : undefined;
    if (openStreams === 0 && this.partialSince < 0 && now - this.lastActivity >= idleTimeoutMs) return "idle";
    return undefined;
  }
}
