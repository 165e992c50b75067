import { createHmac, timingSafeEqual } from "node:crypto";

const KEY_GENERATOR = Buffer.from("macaroons-key-generator");

/** libmacaroons derives the chain's first key from the root key, so root keys of any length work. */
export function deriveKey(rootKey: Uint8Array): Buffer {
  return hmac(KEY_GENERATOR, rootKey);
}

export function hmac(key: Uint8Array, data: Uint8Array): Buffer {
  return createHmac("sha256", key).update(data).digest();
}

/** The HMAC chain: sig0 = HMAC(derived, identifier); sig_i = HMAC(sig_{i-1}, caveat_i). */
export function chainSignature(rootKey: Uint8Array, identifier: Uint8Array, caveats: Uint8Array[]): Buffer {
  let sig = hmac(deriveKey(rootKey), identifier);
  for (const caveat of caveats) sig = hmac(sig, caveat);
  return sig;
}

export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && timingSafeEqual(a, b);
}
