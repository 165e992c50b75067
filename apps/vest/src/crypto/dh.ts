/** X25519 key pairs and agreement; low-order peer keys yield `undefined` so callers raise a typed error. */
import { x25519 } from "@noble/curves/ed25519.js";

export const PUBLIC_KEY_BYTES = 32;

export interface DhKeyPair {
  readonly secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

export function generateDhKeyPair(): DhKeyPair {
  const { secretKey, publicKey } = x25519.keygen();
  return { secretKey, publicKey };
}

export function dhKeyPairFromSecret(secretKey: Uint8Array): DhKeyPair {
  return { secretKey, publicKey: x25519.getPublicKey(secretKey) };
}

export function dh(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array | undefined {
  try {
    return x25519.getSharedSecret(secretKey, publicKey);
  } catch {
    return undefined; // noble rejects low-order points, which would make the output predictable
  }
}
