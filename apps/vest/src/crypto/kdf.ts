/**
 * Key derivations, each under its own label so no output of one can be replayed as another:
 * X3DH (HKDF-SHA256 with Signal's 32 x 0xFF prefix), the Double Ratchet root KDF (HKDF-SHA256
 * salted by the root key), the chain KDF (HMAC-SHA256 with distinct one-byte constants), and the
 * per-message expansion into an XChaCha20-Poly1305 key.
 */
import { hkdf } from "@noble/hashes/hkdf.js";
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { concatBytes, utf8Bytes } from "./bytes.js";

export const KEY_BYTES = 32;

const X3DH_INFO = utf8Bytes("vest/x3dh/v1");
const ROOT_INFO = utf8Bytes("vest/ratchet/root/v1");
const MESSAGE_INFO = utf8Bytes("vest/ratchet/message/v1");
/** X3DH §2.2: 32 0xFF bytes before the DH outputs, so the input never collides with an XEdDSA one. */
const X3DH_PREFIX = new Uint8Array(KEY_BYTES).fill(0xff);
const ZERO_SALT = new Uint8Array(KEY_BYTES);
/** Double Ratchet §5.2 recommendation: message key from constant 0x01, next chain key from 0x02. */
const CHAIN_MESSAGE_CONSTANT = Uint8Array.of(0x01);
const CHAIN_NEXT_CONSTANT = Uint8Array.of(0x02);

export function deriveX3dhSecret(dh1: Uint8Array, dh2: Uint8Array, dh3: Uint8Array): Uint8Array {
  return hkdf(sha256, concatBytes(X3DH_PREFIX, dh1, dh2, dh3), ZERO_SALT, X3DH_INFO, KEY_BYTES);
}

export interface RootStep {
  readonly rootKey: Uint8Array;
  readonly chainKey: Uint8Array;
}

/** KDF_RK: the root key salts HKDF over the new DH output; 64 bytes become root key + chain key. */
export function deriveRootStep(rootKey: Uint8Array, dhOutput: Uint8Array): RootStep {
  const output = hkdf(sha256, dhOutput, rootKey, ROOT_INFO, 2 * KEY_BYTES);
  return { rootKey: output.slice(0, KEY_BYTES), chainKey: output.slice(KEY_BYTES) };
}

export interface ChainStep {
  readonly chainKey: Uint8Array;
  readonly messageKey: Uint8Array;
}

/** KDF_CK: one-way, so a chain key reveals nothing about message keys before it. */
export function deriveChainStep(chainKey: Uint8Array): ChainStep {
  return {
    chainKey: hmac(sha256, chainKey, CHAIN_NEXT_CONSTANT),
    messageKey: hmac(sha256, chainKey, CHAIN_MESSAGE_CONSTANT),
  };
}

/** The AEAD key for one message key; a separate label keeps it apart from every chain and root key. */
export function deriveMessageCipherKey(messageKey: Uint8Array): Uint8Array {
  return hkdf(sha256, messageKey, ZERO_SALT, MESSAGE_INFO, KEY_BYTES);
}
