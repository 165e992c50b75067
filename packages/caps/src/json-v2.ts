import { CapError } from "./errors.js";
import type { Caveat, Macaroon } from "./macaroon.js";

/**
 * The libmacaroons v2 JSON form (`{"i": …, "c": [{"i": …}], "s64": …}`): a field holding
 * valid UTF-8 is a string under its plain name, anything else base64url under name + "64".
 * Used for interop with other macaroon libraries and for debugging; the wire form is binary.
 */
export interface MacaroonJsonV2 {
  /** Location hint, when the token has one. */
  l?: string;
  /** Identifier as UTF-8 text. */
  i?: string;
  /** Identifier as base64url, when it is not valid UTF-8. */
  i64?: string;
  /** Caveats in order. */
  c?: Array<{
    /** Caveat id as UTF-8 text (a first-party caveat's condition). */
    i?: string;
    /** Caveat id as base64url, when it is not valid UTF-8. */
    i64?: string;
    /** Verification id as text (third-party caveats only). */
    v?: string;
    /** Verification id as base64url. */
    v64?: string;
    /** Location of a third-party caveat. */
    l?: string;
  }>;
  /** Signature as text (in practice never: 32 random-looking bytes are rarely UTF-8). */
  s?: string;
  /** Signature as base64url. */
  s64?: string;
}

const strict = new TextDecoder("utf-8", { fatal: true });

/** The v2 JSON form of a macaroon, for other macaroon libraries and for reading by eye. */
export function toJsonV2(m: Macaroon): MacaroonJsonV2 {
  const out: MacaroonJsonV2 = {};
  if (m.location !== undefined) out.l = m.location;
  setField(out as Record<string, string>, "i", m.identifier);
  out.c = m.caveats.map((c) => {
    const entry: Record<string, string> = {};
    setField(entry, "i", c.id);
    if (c.vid) setField(entry, "v", c.vid);
    if (c.location !== undefined) entry.l = c.location;
    return entry;
  });
  setField(out as Record<string, string>, "s", m.signature);
  return out;
}

/** Reads a macaroon from its v2 JSON form; encode it with encodeV2 to get a token. */
export function fromJsonV2(json: MacaroonJsonV2): Macaroon {
  const caveats: Caveat[] = (json.c ?? []).map((c) => {
    const caveat: Caveat = { id: getField(c, "i") };
    if (c.v !== undefined || c.v64 !== undefined) caveat.vid = getField(c, "v");
    if (c.l !== undefined) caveat.location = c.l;
    return caveat;
  });
  const m: Macaroon = { identifier: getField(json, "i"), caveats, signature: getField(json, "s") };
  if (json.l !== undefined) m.location = json.l;
  return m;
}

function setField(obj: Record<string, string>, name: string, bytes: Uint8Array): void {
  try {
    obj[name] = strict.decode(bytes);
  } catch {
    obj[`${name}64`] = Buffer.from(bytes).toString("base64url");
  }
}

function getField(obj: object, name: string): Uint8Array {
  const fields = obj as Record<string, unknown>;
  const text = fields[name];
  if (typeof text === "string") return new TextEncoder().encode(text);
  const b64 = fields[`${name}64`];
  if (typeof b64 === "string") return new Uint8Array(Buffer.from(b64, "base64url"));
  throw new CapError("unauthenticated", `malformed token JSON: field ${name} missing`);
}
