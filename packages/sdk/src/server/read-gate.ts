/** Why a connection stopped reading. */
export type HoldReason = "body_buffer" | "write_queue";

/** What a ReadGate pauses: a socket, or a session transport. */
export interface Pausable {
  pause(): void;
  resume(): void;
}

/**
 * Pauses a socket's reads while any reason holds and resumes when none does, so the
 * read-side bound (request bodies nobody consumed yet) and the write-side bound (replies
 * the peer is not reading) can each stop intake without undoing the other.
 */
export class ReadGate {
  private readonly held = new Set<HoldReason>();

  constructor(private readonly socket: Pausable) {}

  get paused(): boolean {
    return this.held.size > 0;
  }

  isHeld(reason: HoldReason): boolean {
    return this.held.has(reason);
  }

  hold(reason: HoldReason): void {
    if (this.held.size === 0) this.socket.pause();
    this.held.add(reason);
  }

  release(reason: HoldReason): void {
    if (!this.held.delete(reason)) return;
    if (this.held.size === 0) this.socket.resume();
  }
}
