import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from "node:crypto";
import { entrySigningBytes } from "./canonical.js";
import type { RegistryEntry } from "./types.js";

const ED25519_SIGNATURE_BYTES = 64;

/** Base64 Ed25519 signature over the entry's canonical JSON (any `signature` field ignored). */
export function signEntry(
  entry: RegistryEntry | Omit<RegistryEntry, "signature">,
  privateKey: KeyObject,
): string {
  requireEd25519(privateKey, "private");
  return sign(null, entrySigningBytes(entry), privateKey).toString("base64");
}

/** Whether `entry.signature` is `publicKey`'s signature over the entry as it stands. */
export function verifyEntrySignature(entry: RegistryEntry, publicKey: KeyObject): boolean {
  requireEd25519(publicKey, "public");
  const signature = Buffer.from(entry.signature, "base64");
  if (signature.length !== ED25519_SIGNATURE_BYTES) return false;
  return verify(null, entrySigningBytes(entry), publicKey, signature);
}

/** A fresh owner key pair as PEM: PKCS#8 private key, SPKI public key. */
export function generateOwnerKeyPair(): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return {
    privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
  };
}

/** Parses an Ed25519 private key PEM; throws a readable error for anything else. */
export function readPrivateKey(pem: string | Buffer): KeyObject {
  return readEd25519Key(pem, "private");
}

/** Parses an Ed25519 public key PEM (SPKI); throws a readable error for anything else. */
export function readPublicKey(pem: string | Buffer): KeyObject {
  // createPublicKey would quietly derive the public half from a private key PEM.
  if (/PRIVATE KEY/.test(pem.toString())) throw new Error("holds a private key, not a public key");
  return readEd25519Key(pem, "public");
}

function readEd25519Key(pem: string | Buffer, kind: "private" | "public"): KeyObject {
  let key: KeyObject;
  try {
    key = kind === "private" ? createPrivateKey(pem) : createPublicKey(pem);
  } catch {
    throw new Error(`not a PEM ${kind} key`);
  }
  requireEd25519(key, kind);
  return key;
}

/** Whether a private key is the other half of a public key. */
export function keyPairMatches(privateKey: KeyObject, publicKey: KeyObject): boolean {
  const derived = createPublicKey(privateKey).export({ type: "spki", format: "der" });
  return derived.equals(publicKey.export({ type: "spki", format: "der" }));
}

function requireEd25519(key: KeyObject, kind: "private" | "public"): void {
  if (key.type !== kind) throw new Error(`expected a ${kind} key, got a ${key.type} key`);
  if (key.asymmetricKeyType !== "ed25519") {
    throw new Error(`expected an Ed25519 key, got ${key.asymmetricKeyType ?? "an unknown key type"}`);
  }
}

/** SHA-256 of the key's SPKI DER, hex: what an owner reads out to confirm a key is theirs. */
export function publicKeyFingerprint(publicKey: KeyObject): string {
  const key = publicKey.type === "private" ? createPublicKey(publicKey) : publicKey;
  return createHash("sha256")
    .update(key.export({ type: "spki", format: "der" }))
    .digest("hex");
}
