import { CapError } from "./errors.js";
import { MAX_CAVEATS, MAX_TOKEN_BYTES } from "./limits.js";
import type { Caveat, Macaroon } from "./macaroon.js";
import { decodeVarint, encodeVarint } from "./varint.js";

// libmacaroons v2 binary format: a version byte, then fields `type:varint | len:varint | data`,
// with EOS (type 0, no length) closing the header, each caveat and the caveat list.
const VERSION = 2;
/** Field types, as libmacaroons names them (TYPE_EOS, TYPE_LOCATION, …). */
const TYPE = { EOS: 0, LOCATION: 1, IDENTIFIER: 2, VID: 4, SIGNATURE: 6 } as const;
const SIGNATURE_LEN = 32;

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder("utf-8", { fatal: true });

/** Encodes a macaroon in the libmacaroons v2 binary format: the bytes a token travels as. */
export function encodeV2(m: Macaroon): Uint8Array {
  const out: number[] = [VERSION];
  if (m.location !== undefined) field(out, TYPE.LOCATION, utf8.encode(m.location));
  field(out, TYPE.IDENTIFIER, m.identifier);
  out.push(TYPE.EOS);
  for (const c of m.caveats) {
    if (c.location !== undefined) field(out, TYPE.LOCATION, utf8.encode(c.location));
    field(out, TYPE.IDENTIFIER, c.id);
    if (c.vid) field(out, TYPE.VID, c.vid);
    out.push(TYPE.EOS);
  }
  out.push(TYPE.EOS);
  field(out, TYPE.SIGNATURE, m.signature);
  return Uint8Array.from(out);
}

/**
 * Parses a v2 token. Size and caveat count are checked first, so a hostile token costs at
 * most one bounded scan; every malformation is `unauthenticated`.
 */
export function decodeV2(bytes: Uint8Array): Macaroon {
  if (bytes.byteLength > MAX_TOKEN_BYTES) {
    throw new CapError(
      "cap_too_large",
      `token is ${bytes.byteLength} bytes; the limit is ${MAX_TOKEN_BYTES}`,
    );
  }
  const r = new FieldReader(bytes);
  if (r.byte() !== VERSION) throw malformed("not a v2 macaroon (first byte must be 0x02)");
  const location = r.optional(TYPE.LOCATION);
  const identifier = r.required(TYPE.IDENTIFIER);
  r.eos();
  const caveats: Caveat[] = [];
  while (!r.atEos()) {
    if (caveats.length === MAX_CAVEATS) {
      throw new CapError("cap_too_large", `token has more than ${MAX_CAVEATS} caveats`);
    }
    const loc = r.optional(TYPE.LOCATION);
    const caveat: Caveat = { id: r.required(TYPE.IDENTIFIER) };
    const vid = r.optional(TYPE.VID);
    if (vid) caveat.vid = vid;
    if (loc) caveat.location = text(loc);
    r.eos();
    caveats.push(caveat);
  }
  r.eos();
  const signature = r.required(TYPE.SIGNATURE);
  if (signature.byteLength !== SIGNATURE_LEN) throw malformed("signature must be 32 bytes");
  if (!r.done()) throw malformed("trailing bytes after the signature");
  const m: Macaroon = { identifier, caveats, signature };
  if (location) m.location = text(location);
  return m;
}

function field(out: number[], type: number, data: Uint8Array): void {
  out.push(type, ...encodeVarint(data.byteLength));
  for (const b of data) out.push(b);
}

class FieldReader {
  private at = 0;
  constructor(private readonly bytes: Uint8Array) {}

  byte(): number {
    if (this.at >= this.bytes.byteLength) throw malformed("truncated");
    return this.bytes[this.at++] as number;
  }
  atEos(): boolean {
    if (this.at >= this.bytes.byteLength) throw malformed("truncated");
    return this.bytes[this.at] === TYPE.EOS;
  }
  eos(): void {
    if (this.byte() !== TYPE.EOS) throw malformed("field where the end of a section was expected");
  }
  done(): boolean {
    return this.at === this.bytes.byteLength;
  }
  optional(type: number): Uint8Array | undefined {
    if (this.at < this.bytes.byteLength && this.bytes[this.at] === type) return this.required(type);
    return undefined;
  }
  required(type: number): Uint8Array {
    if (this.byte() !== type) throw malformed(`expected field type ${type}`);
    const [len, next] = decodeVarint(this.bytes, this.at);
    if (next + len > this.bytes.byteLength) throw malformed("field runs past the end");
    this.at = next + len;
    return this.bytes.subarray(next, next + len);
  }
}

function text(bytes: Uint8Array): string {
  try {
    return utf8Strict.decode(bytes);
  } catch {
    throw malformed("location is not UTF-8");
  }
}

function malformed(what: string): CapError {
  return new CapError("unauthenticated", `malformed token: ${what}`);
}
