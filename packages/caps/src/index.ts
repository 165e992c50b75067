/**
 * @omnigate/caps: capability tokens (macaroons in the libmacaroons v2 binary format with
 * Omnigate's caveat grammar): mint, attenuate, inspect, verify. Every name here is public
 * API; the HMAC chain and byte codecs under it are in `@omnigate/caps/internal`.
 *
 * @module @omnigate/caps
 */
export {
  type CaveatRule,
  formatAppId,
  formatCaveat,
  formatTenant,
  parseAppId,
  parseCaveat,
  parseTenant,
} from "./caveats.js";
export { CapError, type CapRefusal } from "./errors.js";
export { decodeV2, encodeV2 } from "./format-v2.js";
export { deriveKey } from "./hmac.js";
export { decodeIdentifier, type TokenIdentifier } from "./identifier.js";
export { fromJsonV2, type MacaroonJsonV2, toJsonV2 } from "./json-v2.js";
export { DEFAULT_SKEW_SECONDS, MAX_CAVEATS, MAX_TOKEN_BYTES } from "./limits.js";
export type { Caveat, Macaroon } from "./macaroon.js";
export {
  attenuateToken,
  decodeToken,
  encodeToken,
  inspectToken,
  type MintOptions,
  mintToken,
  type TokenInspection,
} from "./token.js";
export {
  type CapContext,
  CapVerifier,
  type KeySource,
  type RevocationCheck,
  type VerifiedCap,
  type VerifierOptions,
} from "./verify.js";
