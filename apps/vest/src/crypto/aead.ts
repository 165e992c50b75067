/**
 * Message encryption: XChaCha20-Poly1305 under a key expanded from one message key, with a
 * random 24-byte nonce. A message key is meant to encrypt once, but a page state restored from
 * an older save, or two tabs sharing one state, would encrypt twice under it; the random nonce
 * keeps that from reusing a keystream.
 */
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { randomBytes } from "./bytes.js";
import { deriveMessageCipherKey } from "./kdf.js";

export const NONCE_BYTES = 24;
export const TAG_BYTES = 16;

export interface SealedMessage {
  readonly nonce: Uint8Array;
  /** Ciphertext followed by the 16-byte tag. */
  readonly ciphertext: Uint8Array;
}

export function encryptWithMessageKey(
  messageKey: Uint8Array,
  plaintext: Uint8Array,
  associatedData: Uint8Array,
): SealedMessage {
  const nonce = randomBytes(NONCE_BYTES);
  const ciphertext = xchacha20poly1305(deriveMessageCipherKey(messageKey), nonce, associatedData).encrypt(
    plaintext,
  );
  return { nonce, ciphertext };
}

/** `undefined` when the tag does not verify (wrong key, tampered nonce, ciphertext or associated data). */
export function decryptWithMessageKey(
  messageKey: Uint8Array,
  nonce: Uint8Array,
  ciphertext: Uint8Array,
  associatedData: Uint8Array,
): Uint8Array | undefined {
  if (nonce.length !== NONCE_BYTES || ciphertext.length < TAG_BYTES) return undefined;
  try {
    return xchacha20poly1305(deriveMessageCipherKey(messageKey), nonce, associatedData).decrypt(ciphertext);
  } catch {
    return undefined;
  }
}
