import { CapError } from "./errors.js";

/**
 * What the macaroon identifier says: which root key signed it, the token's own id (what
 * revocation by id names) and the tenant epoch it was minted in (revoking an epoch revokes
 * every older token of that tenant). Encoded as text `og1:<key id>:<token id>:<epoch>` so
 * `ronctl cap inspect` and other macaroon tools show it readably.
 */
export interface TokenIdentifier {
  /** Which root key signed the token: the verifier looks it up in its KeySource. */
  keyId: string;
  /** The token's own id, which revocation by id names. */
  tokenId: string;
  /** The tenant's revocation epoch when the token was minted. */
  epoch: number;
}

const ID = /^[A-Za-z0-9_-]{1,64}$/;
const PREFIX = "og1";

export function encodeIdentifier(id: TokenIdentifier): Uint8Array {
  if (!ID.test(id.keyId)) throw new TypeError(`key id must match ${ID}`);
  if (!ID.test(id.tokenId)) throw new TypeError(`token id must match ${ID}`);
  if (!Number.isSafeInteger(id.epoch) || id.epoch < 0)
    throw new TypeError("epoch must be a non-negative integer");
  return new TextEncoder().encode(`${PREFIX}:${id.keyId}:${id.tokenId}:${id.epoch}`);
}

/** Parses an `og1:<key id>:<token id>:<epoch>` identifier; throws CapError `unauthenticated` if malformed. */
export function decodeIdentifier(bytes: Uint8Array): TokenIdentifier {
  const parts = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1").split(":");
  const [prefix, keyId, tokenId, epoch] = parts;
  if (
    parts.length !== 4 ||
    prefix !== PREFIX ||
    !keyId ||
    !ID.test(keyId) ||
    !tokenId ||
    !ID.test(tokenId) ||
    !epoch ||
    !/^(0|[1-9][0-9]{0,15})$/.test(epoch)
  ) {
    throw new CapError("unauthenticated", "malformed token: identifier is not an Omnigate token id");
  }
  return { keyId, tokenId, epoch: Number(epoch) };
}
