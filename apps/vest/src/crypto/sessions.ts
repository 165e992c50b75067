/**
 * All of one user's pairwise sessions: picks or starts the session to send on, starts sessions
 * from incoming X3DH inits, and commits a session's new state only after its message opened.
 */
import { decryptWithMessageKey, encryptWithMessageKey } from "./aead.js";
import { type BundleKeys, decodeBundle, type PublicBundle, verifyBundle } from "./bundle.js";
import { concatBytes, equalBytes, toBase64Url } from "./bytes.js";
import { type EnvelopeHeader, encodeEnvelopeHeader, parseEnvelope } from "./envelope.js";
import { BundleError, DecryptError, StateError } from "./errors.js";
import { type ChatIdentity, type IdentityKeyring, identityKeyring } from "./identity.js";
import { padToCells, unpadCells } from "./padding.js";
import { nextSendingKey, startAsInitiator, startAsResponder, takeReceivingKey } from "./ratchet.js";
import type { IdentityKeys } from "./safety-number.js";
import { cloneSession, type Session } from "./session.js";
import {
  type ChatSessionsState,
  type RetiredSessionState,
  sessionFromJSON,
  sessionToJSON,
} from "./session-state.js";
import { stateArray, stateCount, stateObject, stateString } from "./state-fields.js";
import { agreeAsInitiator, agreeAsResponder } from "./x3dh.js";

export interface ChatSessionsOptions {
  /** Most message keys one message may skip over, and most skipped keys kept per session. */
  maxSkip?: number;
  /** Sessions kept per peer (simultaneous starts create one each); the least recently active goes first. */
  maxSessionsPerPeer?: number;
  /** Plaintexts are padded to a multiple of this many bytes (4 of them hold the length). */
  cellSize?: number;
  /** Skipped keys kept across all sessions; the oldest are evicted first. */
  maxSkippedKeysTotal?: number;
}

export const CHAT_SESSIONS_DEFAULTS: Readonly<Required<ChatSessionsOptions>> = {
  maxSkip: 1000,
  maxSessionsPerPeer: 4,
  cellSize: 1024,
  maxSkippedKeysTotal: 2000,
};

/** Evicted session ids remembered, so their redelivered inits do not start them afresh. */
const RETIRED_SESSIONS_REMEMBERED = 256;
const MAX_CELL_SIZE = 1 << 20;

export class ChatSessions {
  readonly #identity: ChatIdentity;
  readonly #keyring: IdentityKeyring;
  readonly #options: Readonly<Required<ChatSessionsOptions>>;
  /** By session id (base64url); ids are 128-bit hashes over fresh ephemeral keys, so unique. */
  readonly #sessions = new Map<string, Session>();
  #retired: RetiredSessionState[] = [];
  /** Monotonic counter ordering sessions and skipped keys; never clock time. */
  #counter = 0;

  constructor(identity: ChatIdentity, state?: ChatSessionsState, options?: ChatSessionsOptions) {
    this.#identity = identity;
    this.#keyring = identityKeyring(identity);
    this.#options = resolveOptions(options);
    if (state !== undefined) this.#restore(state);
  }

  /**
   * Encrypts for `peer` (a bundle from {@link verifyBundle}). Starts a session when there is none
   * for the peer's current identity; its messages carry the X3DH init until the peer answers.
   */
  seal(peer: PublicBundle, plaintext: Uint8Array): Uint8Array {
    if (!(plaintext instanceof Uint8Array)) throw new TypeError("plaintext must be a Uint8Array");
    let counter = this.#counter;
    const nextSeq = () => ++counter;
    const existing = this.#sendingSession(peer);
    const draft = existing === undefined ? this.#startSession(peer, nextSeq) : cloneSession(existing);
    const { header, messageKey } = nextSendingKey(draft.ratchet);
    draft.lastActive = nextSeq();
    const envelopeHeader: EnvelopeHeader = {
      sender: this.#identity.user,
      sessionId: draft.id,
      init: draft.pendingInit,
      ratchet: header,
    };
    const headerBytes = encodeEnvelopeHeader(envelopeHeader);
    const { nonce, ciphertext } = encryptWithMessageKey(
      messageKey,
      padToCells(plaintext, this.#options.cellSize),
      concatBytes(draft.associatedData, headerBytes),
    );
    this.#commit(draft, counter, existing === undefined);
    return concatBytes(headerBytes, nonce, ciphertext);
  }

  /** The sender name in the envelope's clear header, to look up their bundle; EnvelopeError on garbage. */
  static senderOf(envelope: Uint8Array): string {
    return parseEnvelope(envelope).header.sender;
  }

  /**
   * Decrypts an envelope from `sender` (their verified bundle). Throws EnvelopeError,
   * DuplicateMessageError, DecryptError or TooManySkippedError (or BundleError when a first
   * message needs the bundle and it does not verify), and then changes no state.
   */
  open(sender: PublicBundle, envelope: Uint8Array): Uint8Array {
    const { header, headerBytes, nonce, ciphertext } = parseEnvelope(envelope);
    if (header.sender !== sender.user) {
      throw new DecryptError(
        "sender_mismatch",
        `envelope names sender "${header.sender}" but the bundle given is "${sender.user}"`,
      );
    }
    let counter = this.#counter;
    const nextSeq = () => ++counter;
    const sessionIdText = toBase64Url(header.sessionId);
    const existing = this.#sessions.get(sessionIdText);
    let draft: Session;
    if (existing !== undefined && existing.peer.user === sender.user) {
      // The session is bound to the identity it was started with (its AD holds both keys), so
      // that identity, not the bundle the caller has now, authenticates it: messages of a
      // session still in flight when the peer re-keyed keep opening.
      draft = cloneSession(existing);
    } else {
      draft = this.#acceptSession(sender, header, sessionIdText, nextSeq);
    }
    const messageKey = takeReceivingKey(draft.ratchet, header.ratchet, {
      maxSkip: this.#options.maxSkip,
      nextSeq,
    });
    const padded = decryptWithMessageKey(
      messageKey,
      nonce,
      ciphertext,
      concatBytes(draft.associatedData, headerBytes),
    );
    if (padded === undefined) {
      throw new DecryptError(
        "authentication_failed",
        "message does not authenticate: tampered, or not for this session",
      );
    }
    const plaintext = unpadCells(padded);
    if (plaintext === undefined) throw new DecryptError("bad_padding", "message padding is malformed");
    draft.pendingInit = undefined;
    draft.lastReceived = nextSeq();
    draft.lastActive = draft.lastReceived;
    this.#commit(draft, counter, existing === undefined);
    return plaintext;
  }

  toJSON(): ChatSessionsState {
    return {
      v: 1,
      user: this.#identity.user,
      counter: this.#counter,
      sessions: [...this.#sessions.values()].map(sessionToJSON),
      retired: this.#retired.map((entry) => ({ ...entry })),
    };
  }

  /** Most recently received on, else newest; none if the peer's identity changed or a pending init targets an old prekey. */
  #sendingSession(peer: PublicBundle): Session | undefined {
    let best: Session | undefined;
    for (const session of this.#sessions.values()) {
      if (session.peer.user !== peer.user || !sameIdentity(session.peer, peer)) continue;
      if (session.ratchet.sendChainKey === undefined) continue;
      if (best === undefined || prefersForSending(session, best)) best = session;
    }
    if (best?.pendingInit !== undefined && best.pendingInit.signedPrekeyId !== peer.signedPrekeyId)
      return undefined;
    return best;
  }

  #startSession(peer: PublicBundle, nextSeq: () => number): Session {
    const peerKeys: BundleKeys = decodeBundle(verifyBundle(peer));
    const agreement = agreeAsInitiator(this.#keyring, peerKeys);
    if (agreement === undefined)
      throw new BundleError("weak_key", `bundle of "${peer.user}" holds a low-order key`);
    const created = nextSeq();
    return {
      id: agreement.sessionId,
      idText: toBase64Url(agreement.sessionId),
      peer: peerKeys,
      associatedData: agreement.associatedData,
      pendingInit: agreement.init,
      created,
      lastReceived: 0,
      lastActive: created,
      ratchet: startAsInitiator(agreement.sharedSecret, peerKeys.signedPrekey),
    };
  }

  /** A session the sender started: only from an init that matches their bundle and one of our signed prekeys. */
  #acceptSession(
    sender: PublicBundle,
    header: EnvelopeHeader,
    sessionIdText: string,
    nextSeq: () => number,
  ): Session {
    if (this.#retired.some((entry) => entry.peer === sender.user && entry.id === sessionIdText)) {
      throw new DecryptError("session_retired", "message belongs to a session that was evicted");
    }
    const init = header.init;
    if (init === undefined) {
      throw new DecryptError(
        "unknown_session",
        `no session with "${sender.user}" has this id and the message starts none`,
      );
    }
    const senderKeys = decodeBundle(verifyBundle(sender));
    if (
      !equalBytes(init.identityDh, senderKeys.identityDh) ||
      !equalBytes(init.identitySign, senderKeys.identitySign)
    ) {
      throw new DecryptError(
        "sender_identity_mismatch",
        `message was started by identity keys that are not in the bundle of "${sender.user}"`,
      );
    }
    const signedPrekey = this.#keyring.signedPrekey(init.signedPrekeyId);
    if (signedPrekey === undefined) {
      throw new DecryptError(
        "unknown_signed_prekey",
        `message targets signed prekey ${init.signedPrekeyId}, which is neither our current nor previous one`,
      );
    }
    const agreement = agreeAsResponder(this.#keyring, signedPrekey, senderKeys, init);
    if (agreement === undefined) throw new DecryptError("weak_key", "message init holds a low-order key");
    if (!equalBytes(agreement.sessionId, header.sessionId) || this.#sessions.has(sessionIdText)) {
      throw new DecryptError("session_id_mismatch", "message session id does not match its init");
    }
    const created = nextSeq();
    return {
      id: agreement.sessionId,
      idText: sessionIdText,
      peer: senderKeys,
      associatedData: agreement.associatedData,
      pendingInit: undefined,
      created,
      lastReceived: 0,
      lastActive: created,
      ratchet: startAsResponder(agreement.sharedSecret, signedPrekey),
    };
  }

  /** Nothing after this point can fail, so a message either changes the state fully or not at all. */
  #commit(draft: Session, counter: number, isNew: boolean): void {
    this.#sessions.set(draft.idText, draft);
    this.#counter = counter;
    if (isNew) this.#evictSessionsOf(draft.peer.user);
    this.#evictSkippedKeys();
  }

  #evictSessionsOf(user: string): void {
    const sessions = [...this.#sessions.values()].filter((session) => session.peer.user === user);
    sessions.sort((a, b) => a.lastActive - b.lastActive);
    for (const session of sessions.slice(
      0,
      Math.max(0, sessions.length - this.#options.maxSessionsPerPeer),
    )) {
      this.#sessions.delete(session.idText);
      this.#retired.push({ peer: user, id: session.idText });
    }
    if (this.#retired.length > RETIRED_SESSIONS_REMEMBERED) {
      this.#retired = this.#retired.slice(-RETIRED_SESSIONS_REMEMBERED);
    }
  }

  /** Global cap on skipped keys: drops the oldest key of any session until under the cap. */
  #evictSkippedKeys(): void {
    let total = 0;
    for (const session of this.#sessions.values()) total += session.ratchet.skipped.size;
    while (total > this.#options.maxSkippedKeysTotal) {
      let oldest: { session: Session; id: string; seq: number } | undefined;
      for (const session of this.#sessions.values()) {
        const first = session.ratchet.skipped.entries().next();
        if (first.done === true) continue;
        const [id, key] = first.value;
        if (oldest === undefined || key.seq < oldest.seq) oldest = { session, id, seq: key.seq };
      }
      if (oldest === undefined) break;
      oldest.session.ratchet.skipped.delete(oldest.id);
      total -= 1;
    }
  }

  #restore(state: ChatSessionsState): void {
    const what = "sessions state";
    const fields = stateObject(state, what);
    if (fields.v !== 1)
      throw new StateError("invalid_state", `${what} has unsupported version ${String(fields.v)}`);
    if (stateString(fields, "user", what) !== this.#identity.user) {
      throw new StateError(
        "identity_mismatch",
        `${what} belongs to another user than "${this.#identity.user}"`,
      );
    }
    this.#counter = stateCount(fields, "counter", what);
    for (const value of stateArray(fields.sessions, `${what}.sessions`)) {
      const session = sessionFromJSON(value);
      this.#sessions.set(session.idText, session);
    }
    this.#retired = stateArray(fields.retired, `${what}.retired`).map((value) => {
      const entry = stateObject(value, `${what}.retired[]`);
      return {
        peer: stateString(entry, "peer", `${what}.retired[]`),
        id: stateString(entry, "id", `${what}.retired[]`),
      };
    });
  }
}

/** A session heard from beats one never heard from; then the more recent wins. */
function prefersForSending(candidate: Session, current: Session): boolean {
  const candidateHeard = candidate.lastReceived > 0;
  const currentHeard = current.lastReceived > 0;
  if (candidateHeard !== currentHeard) return candidateHeard;
  return candidateHeard ? candidate.lastReceived > current.lastReceived : candidate.created > current.created;
}

function sameIdentity(keys: IdentityKeys, bundle: PublicBundle): boolean {
  return (
    toBase64Url(keys.identityDh) === bundle.identityDh &&
    toBase64Url(keys.identitySign) === bundle.identitySign
  );
}

function resolveOptions(options: ChatSessionsOptions | undefined): Readonly<Required<ChatSessionsOptions>> {
  const resolved = { ...CHAT_SESSIONS_DEFAULTS, ...options };
  checkInteger("maxSkip", resolved.maxSkip, 0, 0xffffffff);
  checkInteger("maxSessionsPerPeer", resolved.maxSessionsPerPeer, 1, 1024);
  checkInteger("cellSize", resolved.cellSize, 1, MAX_CELL_SIZE);
  checkInteger("maxSkippedKeysTotal", resolved.maxSkippedKeysTotal, 0, Number.MAX_SAFE_INTEGER);
  return resolved;
}

function checkInteger(name: string, value: number, min: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(`ChatSessions option ${name} must be an integer in ${min}..${max}, got ${value}`);
  }
}
