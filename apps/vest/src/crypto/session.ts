/** One pairwise session: who it is with, its X3DH associated data, and its Double Ratchet state. */
import type { SessionInit } from "./envelope.js";
import { cloneRatchet, type RatchetState } from "./ratchet.js";
import type { IdentityKeys } from "./safety-number.js";

export interface Session {
  readonly id: Uint8Array;
  /** base64url of `id`; the key sessions are stored under. */
  readonly idText: string;
  readonly peer: IdentityKeys;
  readonly associatedData: Uint8Array;
  /** Set on the initiator until it has received on this session; travels on every message meanwhile. */
  pendingInit: SessionInit | undefined;
  /** Sequence numbers (the sessions' shared counter, not clock time) for choosing and evicting sessions. */
  readonly created: number;
  lastReceived: number;
  lastActive: number;
  ratchet: RatchetState;
}

export function cloneSession(session: Session): Session {
  return { ...session, ratchet: cloneRatchet(session.ratchet) };
}
