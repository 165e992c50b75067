/**
 * Byte helpers shared by the browser and Node: base64url (keys in bundles and saved state),
 * UTF-8, and big-endian u32. Decoders return `undefined` instead of throwing so each caller
 * raises its own typed error.
 */
import { equalBytes } from "@noble/ciphers/utils.js";
import { concatBytes, randomBytes } from "@noble/hashes/utils.js";

export { concatBytes, equalBytes, randomBytes };

const BASE64URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const BASE64URL_VALUES: ReadonlyMap<string, number> = new Map(
  Array.from(BASE64URL_ALPHABET, (char, index) => [char, index]),
);

/** Unpadded base64url (RFC 4648 §5). */
export function toBase64Url(bytes: Uint8Array): string {
  let text = "";
  for (let index = 0; index < bytes.length; index += 3) {
    const chunk = bytes.subarray(index, index + 3);
    const bits = ((chunk[0] ?? 0) << 16) | ((chunk[1] ?? 0) << 8) | (chunk[2] ?? 0);
    const chars = chunk.length + 1;
    for (let shift = 18, written = 0; written < chars; shift -= 6, written++) {
      text += BASE64URL_ALPHABET.charAt((bits >>> shift) & 63);
    }
  }
  return text;
}

/**
 * Decodes unpadded base64url; rejects padding, foreign characters and non-canonical trailing
 * bits, so each byte string has exactly one accepted text (bundle fields compare as strings).
 */
export function fromBase64Url(text: string): Uint8Array | undefined {
  if (text.length % 4 === 1) return undefined;
  const bytes = new Uint8Array(Math.floor((text.length * 3) / 4));
  let bits = 0;
  let bitCount = 0;
  let written = 0;
  for (const char of text) {
    const value = BASE64URL_VALUES.get(char);
    if (value === undefined) return undefined;
    bits = ((bits << 6) | value) & 0xffffff;
    bitCount += 6;
    if (bitCount >= 8) {
      bitCount -= 8;
      bytes[written++] = (bits >>> bitCount) & 0xff;
    }
  }
  if ((bits & ((1 << bitCount) - 1)) !== 0) return undefined;
  return bytes;
}

/** Decodes base64url that must hold exactly `length` bytes. */
export function fromBase64UrlOfLength(text: string, length: number): Uint8Array | undefined {
  const bytes = fromBase64Url(text);
  return bytes?.length === length ? bytes : undefined;
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8", { fatal: true });

export function utf8Bytes(text: string): Uint8Array {
  return utf8Encoder.encode(text);
}

/** Strict UTF-8 decoding: invalid sequences give `undefined`, not replacement characters. */
export function utf8Text(bytes: Uint8Array): string | undefined {
  try {
    return utf8Decoder.decode(bytes);
  } catch {
    return undefined;
  }
}

export function u32Bytes(value: number): Uint8Array {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new RangeError(`expected an unsigned 32-bit integer, got ${value}`);
  }
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, value);
  return bytes;
}

export function readU32(bytes: Uint8Array, offset: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(offset);
}

export function isU32(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= 0xffffffff;
}

/** One length byte then the bytes; for short fields (user names) inside hashed or signed encodings. */
export function lengthPrefixed(bytes: Uint8Array): Uint8Array {
  if (bytes.length > 255) throw new RangeError("field longer than 255 bytes");
  return concatBytes(Uint8Array.of(bytes.length), bytes);
}
