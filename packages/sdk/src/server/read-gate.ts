/** Why a connection stopped reading. */
export type HoldReason = "body_buffer" | "write_queue";

/** What a ReadGate pauses: a socket, or a session transport. */
export interface Pausable {
  pause(): void;
  resume(): void;
}

/** One bit per reason: release() runs for every request that had a body, and a bit test costs less than a Set lookup. */
const REASON_BIT: Record<HoldReason, number> = { body_buffer: 1, write_queue: 2 };

/**
 * Pauses a socket's reads while any reason holds and resumes when none does, so the
 * read-side bound (request bodies nobody consumed yet) and the write-side bound (replies
 * the peer is not reading) can each stop intake without undoing the other.
 */
export class ReadGate {
  private held = 0;

  constructor(private readonly socket: Pausable) {}

  get paused(): boolean {
    return this.held !== 0;
  }

  isHeld(reason: HoldReason): boolean {
    return (this.held & REASON_BIT[reason]) !== 0;
  }

  hold(reason: HoldReason): void {
    if (this.held === 0) this.socket.pause();
    this.held |= REASON_BIT[reason];
  }

  release(reason: HoldReason): void {
    const bit = REASON_BIT[reason];
    if ((this.held & bit) === 0) return;
    this.held &= ~bit;
    if (this.held === 0) this.socket.resume();
  }
}
