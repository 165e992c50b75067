/**
 * X3DH without one-time prekeys (the bundle sits in content-addressed storage; nobody hands out
 * single-use keys):
 *   DH1 = DH(IK_A, SPK_B)  DH2 = DH(EK_A, IK_B)  DH3 = DH(EK_A, SPK_B)
 *   SK  = HKDF(0xFF*32 || DH1 || DH2 || DH3, info "vest/x3dh/v1")
 * AD binds both users' names and identity keys (DH and signing) to every message of the session.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import type { BundleKeys } from "./bundle.js";
import { concatBytes, lengthPrefixed, utf8Bytes } from "./bytes.js";
import { type DhKeyPair, dh, generateDhKeyPair } from "./dh.js";
import { encodeInit, SESSION_ID_BYTES, type SessionInit } from "./envelope.js";
import type { IdentityKeyring } from "./identity.js";
import { deriveX3dhSecret } from "./kdf.js";
import type { IdentityKeys } from "./safety-number.js";

const ASSOCIATED_DATA_LABEL = utf8Bytes("vest/x3dh-ad/v1\0");
const SESSION_ID_LABEL = utf8Bytes("vest/session-id/v1\0");

export interface SessionAgreement {
  readonly sharedSecret: Uint8Array;
  readonly associatedData: Uint8Array;
  readonly sessionId: Uint8Array;
}

export interface InitiatorAgreement extends SessionAgreement {
  readonly init: SessionInit;
}

/** `undefined` if a bundle key is a low-order point. */
export function agreeAsInitiator(self: IdentityKeyring, peer: BundleKeys): InitiatorAgreement | undefined {
  const ephemeral = generateDhKeyPair();
  const dh1 = dh(self.identityDh.secretKey, peer.signedPrekey);
  const dh2 = dh(ephemeral.secretKey, peer.identityDh);
  const dh3 = dh(ephemeral.secretKey, peer.signedPrekey);
  if (dh1 === undefined || dh2 === undefined || dh3 === undefined) return undefined;
  const init: SessionInit = {
    identityDh: self.publicIdentity.identityDh,
    identitySign: self.publicIdentity.identitySign,
    ephemeral: ephemeral.publicKey,
    signedPrekeyId: peer.signedPrekeyId,
  };
  return {
    sharedSecret: deriveX3dhSecret(dh1, dh2, dh3),
    associatedData: sessionAssociatedData(self.publicIdentity, peer),
    sessionId: deriveSessionId(init, self.publicIdentity.user, peer),
    init,
  };
}

/** `undefined` if the init carries a low-order key. The caller has checked the init against the sender's bundle. */
export function agreeAsResponder(
  self: IdentityKeyring,
  signedPrekey: DhKeyPair,
  initiator: IdentityKeys,
  init: SessionInit,
): SessionAgreement | undefined {
  const dh1 = dh(signedPrekey.secretKey, init.identityDh);
  const dh2 = dh(self.identityDh.secretKey, init.ephemeral);
  const dh3 = dh(signedPrekey.secretKey, init.ephemeral);
  if (dh1 === undefined || dh2 === undefined || dh3 === undefined) return undefined;
  return {
    sharedSecret: deriveX3dhSecret(dh1, dh2, dh3),
    associatedData: sessionAssociatedData(initiator, self.publicIdentity),
    sessionId: deriveSessionId(init, initiator.user, self.publicIdentity),
  };
}

/** A hash of the init and both parties: unique per session (fresh ephemeral key), and recomputable by the responder. */
export function deriveSessionId(
  init: SessionInit,
  initiatorUser: string,
  responder: IdentityKeys,
): Uint8Array {
  return sha256(
    concatBytes(
      SESSION_ID_LABEL,
      lengthPrefixed(utf8Bytes(initiatorUser)),
      encodeInit(init),
      encodeIdentity(responder),
    ),
  ).slice(0, SESSION_ID_BYTES);
}

function sessionAssociatedData(initiator: IdentityKeys, responder: IdentityKeys): Uint8Array {
  return concatBytes(ASSOCIATED_DATA_LABEL, encodeIdentity(initiator), encodeIdentity(responder));
}

function encodeIdentity(party: IdentityKeys): Uint8Array {
  return concatBytes(lengthPrefixed(utf8Bytes(party.user)), party.identityDh, party.identitySign);
}
