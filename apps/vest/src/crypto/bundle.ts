/**
 * The public bundle: what a user publishes (content-addressed storage + the room directory) so
 * others can start a session with them. Its Ed25519 signature binds the user name, the X25519
 * identity key and the signed prekey to the signing key.
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import {
  concatBytes,
  fromBase64UrlOfLength,
  isU32,
  lengthPrefixed,
  toBase64Url,
  u32Bytes,
  utf8Bytes,
  utf8Text,
} from "./bytes.js";
import { PUBLIC_KEY_BYTES } from "./dh.js";
import { BundleError } from "./errors.js";

export const BUNDLE_VERSION = 1;
export const MAX_USER_BYTES = 255;
const SIGNATURE_BYTES = 64;
const BUNDLE_SIGNATURE_LABEL = utf8Bytes("vest/bundle/v1\0");

export interface PublicBundle {
  v: 1;
  user: string;
  /** X25519 identity key (base64url). */
  identityDh: string;
  /** Ed25519 key that signs the bundle (base64url). */
  identitySign: string;
  /** Current X25519 signed prekey (base64url). */
  signedPrekey: string;
  signedPrekeyId: number;
  /** Ed25519 signature by identitySign over {@link bundleSigningPayload} (base64url). */
  signature: string;
}

/** A bundle's fields as bytes. */
export interface BundleKeys {
  readonly user: string;
  readonly identityDh: Uint8Array;
  readonly identitySign: Uint8Array;
  readonly signedPrekey: Uint8Array;
  readonly signedPrekeyId: number;
}

/** 1..255 bytes of well-formed UTF-8 (the name is length-prefixed by one byte on the wire). */
export function isValidUserName(user: unknown): user is string {
  if (typeof user !== "string" || user.length === 0) return false;
  const bytes = utf8Bytes(user);
  return bytes.length <= MAX_USER_BYTES && utf8Text(bytes) === user;
}

/**
 * Domain-separated encoding the signature covers: label, version, user, both identity keys, the
 * signed prekey and its id. The signing key is included too so no signature transfers to another key.
 */
export function bundleSigningPayload(keys: BundleKeys): Uint8Array {
  return concatBytes(
    BUNDLE_SIGNATURE_LABEL,
    Uint8Array.of(BUNDLE_VERSION),
    lengthPrefixed(utf8Bytes(keys.user)),
    keys.identityDh,
    keys.identitySign,
    keys.signedPrekey,
    u32Bytes(keys.signedPrekeyId),
  );
}

export function signBundle(keys: BundleKeys, signingSecretKey: Uint8Array): PublicBundle {
  return encodeBundle(keys, ed25519.sign(bundleSigningPayload(keys), signingSecretKey));
}

/**
 * Parses an untrusted value (e.g. JSON fetched from storage), checks its shape and its signature,
 * and returns a fresh bundle holding only the known fields.
 */
export function verifyBundle(value: unknown): PublicBundle {
  const keys = decodeBundle(value);
  const signatureText = (value as Record<string, unknown>).signature;
  const signature =
    typeof signatureText === "string" ? fromBase64UrlOfLength(signatureText, SIGNATURE_BYTES) : undefined;
  if (signature === undefined) {
    throw new BundleError("invalid_signature", "bundle signature is not 64 bytes of base64url");
  }
  if (!verifySignature(signature, bundleSigningPayload(keys), keys.identitySign)) {
    throw new BundleError(
      "bad_signature",
      `bundle of "${keys.user}" has a signature that does not verify; fetch it again or ask the user to republish`,
    );
  }
  return encodeBundle(keys, signature);
}

function encodeBundle(keys: BundleKeys, signature: Uint8Array): PublicBundle {
  return {
    v: BUNDLE_VERSION,
    user: keys.user,
    identityDh: toBase64Url(keys.identityDh),
    identitySign: toBase64Url(keys.identitySign),
    signedPrekey: toBase64Url(keys.signedPrekey),
    signedPrekeyId: keys.signedPrekeyId,
    signature: toBase64Url(signature),
  };
}

/** Shape and encodings only, no signature check: for bundles already verified by {@link verifyBundle}. */
export function decodeBundle(value: unknown): BundleKeys {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new BundleError("not_an_object", "bundle is not a JSON object");
  }
  const fields = value as Record<string, unknown>;
  if (fields.v !== BUNDLE_VERSION) {
    throw new BundleError(
      "unsupported_version",
      `bundle version ${String(fields.v)} is not supported (want 1)`,
    );
  }
  if (!isValidUserName(fields.user)) {
    throw new BundleError("invalid_user", "bundle user must be 1 to 255 bytes of UTF-8");
  }
  if (!isU32(fields.signedPrekeyId)) {
    throw new BundleError("invalid_prekey_id", "bundle signedPrekeyId must be an unsigned 32-bit integer");
  }
  return {
    user: fields.user,
    identityDh: decodeKeyField(fields, "identityDh"),
    identitySign: decodeKeyField(fields, "identitySign"),
    signedPrekey: decodeKeyField(fields, "signedPrekey"),
    signedPrekeyId: fields.signedPrekeyId,
  };
}

function decodeKeyField(fields: Record<string, unknown>, name: string): Uint8Array {
  const text = fields[name];
  const key = typeof text === "string" ? fromBase64UrlOfLength(text, PUBLIC_KEY_BYTES) : undefined;
  if (key === undefined)
    throw new BundleError("invalid_key", `bundle ${name} is not a 32-byte base64url key`);
  return key;
}

function verifySignature(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  try {
    // Strict RFC 8032 checks (no ZIP-215 leniency): one valid signature encoding per message.
    return ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}
