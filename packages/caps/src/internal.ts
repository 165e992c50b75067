/**
 * `@omnigate/caps/internal`: the public API plus the pieces tokens are made of (the HMAC
 * chain, identifier and varint codecs, the signature check without caveats). Not a stable API.
 */

export { chainSignature, constantTimeEqual, hmac } from "./hmac.js";
export { encodeIdentifier } from "./identifier.js";
export * from "./index.js";
export { decodeVarint, encodeVarint } from "./varint.js";
export { authenticateToken } from "./verify.js";
