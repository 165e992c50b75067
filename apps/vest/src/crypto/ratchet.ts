/**
 * The Double Ratchet (Signal spec, Perrin & Marlinspike 2016) over X25519. Functions mutate the
 * state they are given; the session layer passes a copy and keeps it only if the message opens,
 * so a duplicate, a forgery or a gap over the limit leaves the saved state untouched.
 */
import { equalBytes, toBase64Url } from "./bytes.js";
import { type DhKeyPair, dh, generateDhKeyPair } from "./dh.js";
import type { RatchetHeader } from "./envelope.js";
import { DecryptError, DuplicateMessageError, TooManySkippedError } from "./errors.js";
import { deriveChainStep, deriveRootStep } from "./kdf.js";

/**
 * How many finished receiving chains are remembered, so a redelivered message from one of them
 * reads as a duplicate rather than as a new ratchet step that fails to decrypt.
 */
export const REMEMBERED_REMOTE_KEYS = 100;
const MAX_MESSAGE_NUMBER = 0xffffffff;

export interface SkippedMessageKey {
  readonly ratchetKey: Uint8Array;
  readonly messageNumber: number;
  readonly messageKey: Uint8Array;
  /** Position in the sessions' global insertion order, so the oldest key anywhere is evicted first. */
  readonly seq: number;
}

export interface RatchetState {
  self: DhKeyPair;
  remotePublic: Uint8Array | undefined;
  rootKey: Uint8Array;
  sendChainKey: Uint8Array | undefined;
  receiveChainKey: Uint8Array | undefined;
  sendCount: number;
  receiveCount: number;
  previousSendCount: number;
  /** Remote ratchet keys of finished receiving chains, oldest first. */
  pastRemotePublics: Uint8Array[];
  /** Keys of messages skipped over and not yet received, by {@link skippedKeyId}, oldest first. */
  skipped: Map<string, SkippedMessageKey>;
}

export interface RatchetLimits {
  /** Most message keys one message may make us skip, and most kept per session. */
  readonly maxSkip: number;
  /** Hands out increasing sequence numbers for skipped keys. */
  readonly nextSeq: () => number;
}

export function skippedKeyId(remotePublic: Uint8Array, messageNumber: number): string {
  return `${toBase64Url(remotePublic)}.${messageNumber}`;
}

/** Alice after X3DH: her first sending chain comes from a DH with Bob's signed prekey. */
export function startAsInitiator(sharedSecret: Uint8Array, remoteSignedPrekey: Uint8Array): RatchetState {
  const self = generateDhKeyPair();
  const dhOutput = dh(self.secretKey, remoteSignedPrekey);
  if (dhOutput === undefined) throw new RangeError("signed prekey is a low-order point");
  const { rootKey, chainKey } = deriveRootStep(sharedSecret, dhOutput);
  return {
    self,
    remotePublic: remoteSignedPrekey,
    rootKey,
    sendChainKey: chainKey,
    receiveChainKey: undefined,
    sendCount: 0,
    receiveCount: 0,
    previousSendCount: 0,
    pastRemotePublics: [],
    skipped: new Map(),
  };
}

/** Bob after X3DH: his signed prekey is his first ratchet key; he can send once he has received. */
export function startAsResponder(sharedSecret: Uint8Array, signedPrekey: DhKeyPair): RatchetState {
  return {
    self: signedPrekey,
    remotePublic: undefined,
    rootKey: sharedSecret,
    sendChainKey: undefined,
    receiveChainKey: undefined,
    sendCount: 0,
    receiveCount: 0,
    previousSendCount: 0,
    pastRemotePublics: [],
    skipped: new Map(),
  };
}

/** Byte arrays are never mutated in place, so sharing them between copies is safe. */
export function cloneRatchet(state: RatchetState): RatchetState {
  return { ...state, pastRemotePublics: [...state.pastRemotePublics], skipped: new Map(state.skipped) };
}

export interface SendingKey {
  readonly header: RatchetHeader;
  readonly messageKey: Uint8Array;
}

export function nextSendingKey(state: RatchetState): SendingKey {
  if (state.sendChainKey === undefined) throw new Error("this session cannot send before it has received");
  if (state.sendCount >= MAX_MESSAGE_NUMBER) throw new RangeError("sending chain exhausted");
  const step = deriveChainStep(state.sendChainKey);
  const header: RatchetHeader = {
    publicKey: state.self.publicKey,
    previousChainLength: state.previousSendCount,
    messageNumber: state.sendCount,
  };
  state.sendChainKey = step.chainKey;
  state.sendCount += 1;
  return { header, messageKey: step.messageKey };
}

/**
 * The message key for a received header: a stored skipped key, the next key of the current
 * receiving chain (skipping ahead if needed), or the first keys after a DH ratchet step.
 */
export function takeReceivingKey(
  state: RatchetState,
  header: RatchetHeader,
  limits: RatchetLimits,
): Uint8Array {
  const skippedId = skippedKeyId(header.publicKey, header.messageNumber);
  const skipped = state.skipped.get(skippedId);
  if (skipped !== undefined) {
    state.skipped.delete(skippedId);
    return skipped.messageKey;
  }
  if (state.remotePublic !== undefined && equalBytes(header.publicKey, state.remotePublic)) {
    if (state.receiveChainKey === undefined) {
      throw new DecryptError("unexpected_ratchet_key", "message uses a ratchet key that cannot send");
    }
    if (header.messageNumber < state.receiveCount) throw duplicate();
    checkSkipBudget(header.messageNumber - state.receiveCount, limits);
  } else {
    if (state.pastRemotePublics.some((key) => equalBytes(key, header.publicKey))) throw duplicate();
    const endOfCurrentChain =
      state.receiveChainKey === undefined ? 0 : Math.max(0, header.previousChainLength - state.receiveCount);
    checkSkipBudget(endOfCurrentChain + header.messageNumber, limits);
    skipMessageKeys(state, header.previousChainLength, limits);
    stepDhRatchet(state, header.publicKey);
  }
  skipMessageKeys(state, header.messageNumber, limits);
  const receiveChainKey = state.receiveChainKey;
  if (receiveChainKey === undefined) throw new Error("receiving chain missing after ratchet step");
  const step = deriveChainStep(receiveChainKey);
  state.receiveChainKey = step.chainKey;
  state.receiveCount += 1;
  return step.messageKey;
}

function duplicate(): DuplicateMessageError {
  return new DuplicateMessageError(
    "message_key_used",
    "message was already opened (its key is gone); drop this redelivery",
  );
}

function checkSkipBudget(keysToSkip: number, limits: RatchetLimits): void {
  if (keysToSkip > limits.maxSkip) {
    throw new TooManySkippedError(
      "too_many_skipped",
      `message is ${keysToSkip} messages ahead of the last one received; at most ${limits.maxSkip} may be skipped`,
    );
  }
}

/** Stores the keys of the current receiving chain up to `until`, evicting the oldest past `maxSkip`. */
function skipMessageKeys(state: RatchetState, until: number, limits: RatchetLimits): void {
  const remotePublic = state.remotePublic;
  if (state.receiveChainKey === undefined || remotePublic === undefined) return;
  let chainKey = state.receiveChainKey;
  while (state.receiveCount < until) {
    const step = deriveChainStep(chainKey);
    state.skipped.set(skippedKeyId(remotePublic, state.receiveCount), {
      ratchetKey: remotePublic,
      messageNumber: state.receiveCount,
      messageKey: step.messageKey,
      seq: limits.nextSeq(),
    });
    chainKey = step.chainKey;
    state.receiveCount += 1;
  }
  state.receiveChainKey = chainKey;
  for (const id of state.skipped.keys()) {
    if (state.skipped.size <= limits.maxSkip) break;
    state.skipped.delete(id);
  }
}

function stepDhRatchet(state: RatchetState, remotePublic: Uint8Array): void {
  if (state.remotePublic !== undefined) {
    state.pastRemotePublics.push(state.remotePublic);
    if (state.pastRemotePublics.length > REMEMBERED_REMOTE_KEYS) state.pastRemotePublics.shift();
  }
  state.previousSendCount = state.sendCount;
  state.sendCount = 0;
  state.receiveCount = 0;
  state.remotePublic = remotePublic;
  const receiveDh = dh(state.self.secretKey, remotePublic);
  if (receiveDh === undefined) throw new DecryptError("weak_key", "message ratchet key is a low-order point");
  const receiving = deriveRootStep(state.rootKey, receiveDh);
  state.receiveChainKey = receiving.chainKey;
  // A fresh key pair per step: the previous secret is dropped here, which is the forward secrecy.
  state.self = generateDhKeyPair();
  const sendDh = dh(state.self.secretKey, remotePublic);
  if (sendDh === undefined) throw new DecryptError("weak_key", "message ratchet key is a low-order point");
  const sending = deriveRootStep(receiving.rootKey, sendDh);
  state.rootKey = sending.rootKey;
  state.sendChainKey = sending.chainKey;
}
