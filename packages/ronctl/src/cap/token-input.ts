import { readFileSync } from "node:fs";
import { CapError, decodeToken, inspectToken, type TokenInspection } from "@omnigate/caps";
import { CommandRefused } from "../errors.js";

export const TOKEN_ARGUMENT_HELP = "the capability (base64url), or - to read it from stdin";

export interface TokenInput {
  /** The token as given, trimmed. */
  text: string;
  bytes: Uint8Array;
  inspection: TokenInspection;
}

/**
 * Reads and decodes a token argument (`-` = stdin) without verifying it. A token that does
 * not even decode throws the CapError saying why (`unauthenticated`, `cap_too_large`).
 */
export function readToken(arg: string): TokenInput {
  const text = (arg === "-" ? readFileSync(0, "utf8") : arg).trim();
  const bytes = decodeToken(text);
  return { text, bytes, inspection: inspectToken(bytes) };
}

/** readToken for commands where an undecodable token is simply bad input. */
export function readTokenOrRefuse(arg: string): TokenInput {
  try {
    return readToken(arg);
  } catch (err) {
    if (err instanceof CapError) throw new CommandRefused(`not a capability token: ${err.message}`);
    throw err;
  }
}
