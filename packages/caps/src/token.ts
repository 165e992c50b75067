import { randomBytes } from "node:crypto";
import { type CaveatRule, formatCaveat, parseCaveat } from "./caveats.js";
import { CapError } from "./errors.js";
import { decodeV2, encodeV2 } from "./format-v2.js";
import { chainSignature, hmac } from "./hmac.js";
import { decodeIdentifier, encodeIdentifier, type TokenIdentifier } from "./identifier.js";
import { MAX_CAVEATS, MAX_TOKEN_BYTES } from "./limits.js";

/** What mintToken puts in a new token; each optional field adds one caveat. */
export interface MintOptions {
  /** The root key the HMAC chain starts from; the verifier must hold it under `keyId`. */
  rootKey: Uint8Array;
  /** The id the verifier finds `rootKey` under (rotate keys by minting under a new id). */
  keyId: string;
  /** The tenant the token is bound to (always the first caveat). */
  tenant: bigint;
  /** App ids (app_proto_id) the token may call; all when absent. */
  apps?: number[];
  /** Operations (such as `mailbox.send`) the token may perform; all when absent. */
  ops?: string[];
  /** Topic prefix the token is limited to. */
  topics?: string;
  /** Unix seconds after which the token is refused. */
  expiresAt?: number;
  /** Unix seconds before which the token is refused. */
  notBefore?: number;
  /** Requests per second the node's quota stage allows this token. */
  rps?: number;
  /** Request body bytes per second the node's quota stage allows this token. */
  bytes?: number;
  /** Defaults to 16 random bytes, base64url. */
  tokenId?: string;
  /** The tenant's revocation epoch at mint time (default 0). */
  epoch?: number;
  /** Location hint, stored in the token unsigned. */
  location?: string;
}

/** Mints a token: the tenant caveat first, then each restriction given. Returns v2 binary. */
export function mintToken(options: MintOptions): Uint8Array {
  const identifier = encodeIdentifier({
    keyId: options.keyId,
    tokenId: options.tokenId ?? randomBytes(16).toString("base64url"),
    epoch: options.epoch ?? 0,
  });
  const rules: CaveatRule[] = [{ kind: "tenant", tenant: options.tenant }];
  if (options.apps) rules.push({ kind: "apps", apps: options.apps });
  if (options.ops) rules.push({ kind: "ops", ops: options.ops });
  if (options.topics !== undefined) rules.push({ kind: "topics", prefix: options.topics });
  if (options.expiresAt !== undefined) rules.push({ kind: "expires", at: options.expiresAt });
  if (options.notBefore !== undefined) rules.push({ kind: "not-before", at: options.notBefore });
  if (options.rps !== undefined) rules.push({ kind: "rps", max: options.rps });
  if (options.bytes !== undefined) rules.push({ kind: "bytes", max: options.bytes });
  const caveats = rules.map((rule) => caveatBytes(formatCaveat(rule)));
  const token = encodeV2({
    ...(options.location === undefined ? {} : { location: options.location }),
    identifier,
    caveats: caveats.map((id) => ({ id })),
    signature: chainSignature(options.rootKey, identifier, caveats),
  });
  return checkedSize(token);
}

/**
 * Adds caveats to a token without the root key: each extends the HMAC chain from the current
 * signature, so a holder can only narrow what the token allows, never widen it.
 */
export function attenuateToken(token: Uint8Array, caveats: Array<CaveatRule | string>): Uint8Array {
  const m = decodeV2(token);
  let signature: Uint8Array = m.signature;
  for (const caveat of caveats) {
    const text = typeof caveat === "string" ? caveat : formatCaveat(caveat);
    parseCaveat(text); // refuse to add what no verifier would accept
    const id = caveatBytes(text);
    signature = hmac(signature, id);
    m.caveats.push({ id });
  }
  if (m.caveats.length > MAX_CAVEATS) {
    throw new CapError("cap_too_large", `a token may carry at most ${MAX_CAVEATS} caveats`);
  }
  return checkedSize(encodeV2({ ...m, signature }));
}

/** What inspectToken reads from a token: its identifier, location and caveats, unverified. */
export interface TokenInspection extends TokenIdentifier {
  /** The token's location hint, if it has one. */
  location?: string;
  /** Caveats as text, in order. */
  caveats: string[];
  /** Parsed caveats; an entry is undefined when the caveat is outside the grammar. */
  rules: Array<CaveatRule | undefined>;
  /** How many third-party caveats the token carries (Omnigate's verifier refuses any). */
  thirdPartyCaveats: number;
}

/** Decodes a token without verifying anything: for display and debugging only. */
export function inspectToken(token: Uint8Array): TokenInspection {
  const m = decodeV2(token);
  const caveats = m.caveats.map((c) => Buffer.from(c.id).toString("utf8"));
  return {
    ...decodeIdentifier(m.identifier),
    ...(m.location === undefined ? {} : { location: m.location }),
    caveats,
    rules: caveats.map((text) => {
      try {
        return parseCaveat(text);
      } catch {
        return undefined;
      }
    }),
    thirdPartyCaveats: m.caveats.filter((c) => c.vid).length,
  };
}

/** base64url without padding: what env vars, CLI flags and `RON_CAP` carry. */
export function encodeToken(token: Uint8Array): string {
  return Buffer.from(token.buffer, token.byteOffset, token.byteLength).toString("base64url");
}

/** Parses base64url or standard base64 text; surrounding whitespace is ignored. */
export function decodeToken(text: string): Uint8Array {
  const trimmed = text.trim();
  if (trimmed.length === 0 || trimmed.length > Math.ceil((MAX_TOKEN_BYTES * 4) / 3) + 4) {
    throw new CapError(
      trimmed.length === 0 ? "unauthenticated" : "cap_too_large",
      trimmed.length === 0
        ? "empty capability"
        : `capability text is longer than a ${MAX_TOKEN_BYTES}-byte token`,
    );
  }
  if (!/^[A-Za-z0-9_\-+/]+=*$/.test(trimmed)) {
    throw new CapError("unauthenticated", "capability is not base64url text");
  }
  return new Uint8Array(Buffer.from(trimmed.replace(/\+/g, "-").replace(/\//g, "_"), "base64url"));
}

function caveatBytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

function checkedSize(token: Uint8Array): Uint8Array {
  if (token.byteLength > MAX_TOKEN_BYTES) {
    throw new CapError(
      "cap_too_large",
      `token would be ${token.byteLength} bytes; the limit is ${MAX_TOKEN_BYTES}`,
    );
  }
  return token;
}
