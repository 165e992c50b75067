/**
 * JSON form of the sessions, for localStorage: strings and numbers only, byte fields base64url.
 * Restoring it continues every session exactly, including keys of skipped messages.
 */
import { fromBase64Url, toBase64Url } from "./bytes.js";
import { PUBLIC_KEY_BYTES } from "./dh.js";
import { decodeInit, encodeInit, INIT_BYTES, SESSION_ID_BYTES } from "./envelope.js";
import { StateError } from "./errors.js";
import { KEY_BYTES } from "./kdf.js";
import { type RatchetState, type SkippedMessageKey, skippedKeyId } from "./ratchet.js";
import type { Session } from "./session.js";
import {
  optionalStateBytes,
  stateArray,
  stateBytes,
  stateCount,
  stateObject,
  stateString,
} from "./state-fields.js";

export interface SkippedKeyState {
  ratchetKey: string;
  messageNumber: number;
  messageKey: string;
  seq: number;
}

export interface RatchetStateJSON {
  selfSecret: string;
  selfPublic: string;
  remotePublic?: string;
  rootKey: string;
  sendChainKey?: string;
  receiveChainKey?: string;
  sendCount: number;
  receiveCount: number;
  previousSendCount: number;
  pastRemotePublics: string[];
  skipped: SkippedKeyState[];
}

export interface SessionState {
  id: string;
  peer: string;
  peerIdentityDh: string;
  peerIdentitySign: string;
  associatedData: string;
  pendingInit?: string;
  created: number;
  lastReceived: number;
  lastActive: number;
  ratchet: RatchetStateJSON;
}

export interface RetiredSessionState {
  peer: string;
  id: string;
}

/** JSON-safe; holds message keys, so store it only where the identity state lives. */
export interface ChatSessionsState {
  v: 1;
  user: string;
  counter: number;
  sessions: SessionState[];
  retired: RetiredSessionState[];
}

export function sessionToJSON(session: Session): SessionState {
  const state: SessionState = {
    id: session.idText,
    peer: session.peer.user,
    peerIdentityDh: toBase64Url(session.peer.identityDh),
    peerIdentitySign: toBase64Url(session.peer.identitySign),
    associatedData: toBase64Url(session.associatedData),
    created: session.created,
    lastReceived: session.lastReceived,
    lastActive: session.lastActive,
    ratchet: ratchetToJSON(session.ratchet),
  };
  if (session.pendingInit !== undefined) state.pendingInit = toBase64Url(encodeInit(session.pendingInit));
  return state;
}

export function sessionFromJSON(value: unknown): Session {
  const what = "session";
  const fields = stateObject(value, what);
  const id = stateBytes(fields, "id", SESSION_ID_BYTES, what);
  const associatedData = fromBase64Url(stateString(fields, "associatedData", what));
  if (associatedData === undefined)
    throw new StateError("invalid_state", "session.associatedData is not base64url");
  const pendingInitBytes = optionalStateBytes(fields, "pendingInit", INIT_BYTES, what);
  return {
    id,
    idText: toBase64Url(id),
    peer: {
      user: stateString(fields, "peer", what),
      identityDh: stateBytes(fields, "peerIdentityDh", PUBLIC_KEY_BYTES, what),
      identitySign: stateBytes(fields, "peerIdentitySign", PUBLIC_KEY_BYTES, what),
    },
    associatedData,
    pendingInit: pendingInitBytes === undefined ? undefined : decodeInit(pendingInitBytes),
    created: stateCount(fields, "created", what),
    lastReceived: stateCount(fields, "lastReceived", what),
    lastActive: stateCount(fields, "lastActive", what),
    ratchet: ratchetFromJSON(fields.ratchet),
  };
}

function ratchetToJSON(ratchet: RatchetState): RatchetStateJSON {
  const state: RatchetStateJSON = {
    selfSecret: toBase64Url(ratchet.self.secretKey),
    selfPublic: toBase64Url(ratchet.self.publicKey),
    rootKey: toBase64Url(ratchet.rootKey),
    sendCount: ratchet.sendCount,
    receiveCount: ratchet.receiveCount,
    previousSendCount: ratchet.previousSendCount,
    pastRemotePublics: ratchet.pastRemotePublics.map(toBase64Url),
    skipped: [],
  };
  if (ratchet.remotePublic !== undefined) state.remotePublic = toBase64Url(ratchet.remotePublic);
  if (ratchet.sendChainKey !== undefined) state.sendChainKey = toBase64Url(ratchet.sendChainKey);
  if (ratchet.receiveChainKey !== undefined) state.receiveChainKey = toBase64Url(ratchet.receiveChainKey);
  for (const skipped of ratchet.skipped.values()) {
    state.skipped.push({
      ratchetKey: toBase64Url(skipped.ratchetKey),
      messageNumber: skipped.messageNumber,
      messageKey: toBase64Url(skipped.messageKey),
      seq: skipped.seq,
    });
  }
  return state;
}

function ratchetFromJSON(value: unknown): RatchetState {
  const what = "session.ratchet";
  const fields = stateObject(value, what);
  const skipped = stateArray(fields.skipped, `${what}.skipped`)
    .map((entry) => skippedKeyFromJSON(entry))
    .sort((a, b) => a.seq - b.seq);
  return {
    self: {
      secretKey: stateBytes(fields, "selfSecret", KEY_BYTES, what),
      publicKey: stateBytes(fields, "selfPublic", PUBLIC_KEY_BYTES, what),
    },
    remotePublic: optionalStateBytes(fields, "remotePublic", PUBLIC_KEY_BYTES, what),
    rootKey: stateBytes(fields, "rootKey", KEY_BYTES, what),
    sendChainKey: optionalStateBytes(fields, "sendChainKey", KEY_BYTES, what),
    receiveChainKey: optionalStateBytes(fields, "receiveChainKey", KEY_BYTES, what),
    sendCount: stateCount(fields, "sendCount", what, 0xffffffff),
    receiveCount: stateCount(fields, "receiveCount", what, 0xffffffff),
    previousSendCount: stateCount(fields, "previousSendCount", what, 0xffffffff),
    pastRemotePublics: stateArray(fields.pastRemotePublics, `${what}.pastRemotePublics`).map((key) =>
      stateBytes({ key }, "key", PUBLIC_KEY_BYTES, `${what}.pastRemotePublics`),
    ),
    skipped: new Map(skipped.map((entry) => [skippedKeyId(entry.ratchetKey, entry.messageNumber), entry])),
  };
}

function skippedKeyFromJSON(value: unknown): SkippedMessageKey {
  const what = "session.ratchet.skipped[]";
  const fields = stateObject(value, what);
  return {
    ratchetKey: stateBytes(fields, "ratchetKey", PUBLIC_KEY_BYTES, what),
    messageNumber: stateCount(fields, "messageNumber", what, 0xffffffff),
    messageKey: stateBytes(fields, "messageKey", KEY_BYTES, what),
    seq: stateCount(fields, "seq", what),
  };
}
