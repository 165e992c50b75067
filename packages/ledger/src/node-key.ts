/** A node's Ed25519 settlement key: raw 32-byte keys, signing and verifying through node:crypto. */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from "node:crypto";

/** A node's signing key and its public id (the raw public key, hex). */
export interface NodeKey {
  readonly nodeId: string;
  readonly privateKey: KeyObject;
}

/** A fresh key. */
export function generateNodeKey(): NodeKey {
  const { privateKey } = generateKeyPairSync("ed25519");
  return { nodeId: nodeIdOf(privateKey), privateKey };
}

/** The key from its PKCS#8 PEM (as the node keeps it in its data dir). */
export function nodeKeyFromPem(pem: string): NodeKey {
  const privateKey = createPrivateKey(pem);
  if (privateKey.asymmetricKeyType !== "ed25519") throw new Error("a node settlement key must be Ed25519");
  return { nodeId: nodeIdOf(privateKey), privateKey };
}

/** PKCS#8 PEM of a key, to store it. */
export function nodeKeyToPem(key: NodeKey): string {
  return key.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
}

export function signWithNodeKey(key: NodeKey, message: Uint8Array): Uint8Array {
  return new Uint8Array(sign(null, message, key.privateKey));
}

/** Whether `signature` is the node `nodeId`'s (64 hex digits) signature over `message`. */
export function verifyNodeSignature(nodeId: string, message: Uint8Array, signature: Uint8Array): boolean {
  if (!/^[0-9a-f]{64}$/.test(nodeId) || signature.length !== 64) return false;
  const publicKey = createPublicKey({
    key: { kty: "OKP", crv: "Ed25519", x: Buffer.from(nodeId, "hex").toString("base64url") },
    format: "jwk",
  });
  return verify(null, message, publicKey, signature);
}

function nodeIdOf(privateKey: KeyObject): string {
  const jwk = createPublicKey(privateKey).export({ format: "jwk" });
  return Buffer.from(jwk.x as string, "base64url").toString("hex");
}
