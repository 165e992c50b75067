/**
 * The envelope: versioned binary bytes the mailbox carries. Layout (all integers big-endian):
 *
 *   version u8 (=1) | flags u8 (bit 0: init present) | sender length u8 | sender UTF-8
 *   | session id 16 | [init: identityDh 32 | identitySign 32 | ephemeral 32 | signedPrekeyId u32]
 *   | ratchet key 32 | previous chain length u32 | message number u32
 *   | nonce 24 | ciphertext of the padded plaintext | Poly1305 tag 16
 *
 * Everything before the nonce is the clear header; it is authenticated as associated data.
 * Parsing checks every length and throws only EnvelopeError.
 */
import { NONCE_BYTES, TAG_BYTES } from "./aead.js";
import { concatBytes, readU32, toBase64Url, u32Bytes, utf8Bytes, utf8Text } from "./bytes.js";
import { PUBLIC_KEY_BYTES } from "./dh.js";
import { EnvelopeError } from "./errors.js";

export const ENVELOPE_VERSION = 1;
export const SESSION_ID_BYTES = 16;
const FLAG_INIT = 0x01;
const KNOWN_FLAGS = FLAG_INIT;
/** The smallest padded plaintext is its 4-byte length prefix. */
const MIN_CIPHERTEXT_BYTES = 4 + TAG_BYTES;

/** X3DH init the initiator repeats on its messages until it hears back on the session. */
export interface SessionInit {
  readonly identityDh: Uint8Array;
  readonly identitySign: Uint8Array;
  readonly ephemeral: Uint8Array;
  readonly signedPrekeyId: number;
}

export interface RatchetHeader {
  readonly publicKey: Uint8Array;
  readonly previousChainLength: number;
  readonly messageNumber: number;
}

export interface EnvelopeHeader {
  readonly sender: string;
  readonly sessionId: Uint8Array;
  readonly init: SessionInit | undefined;
  readonly ratchet: RatchetHeader;
}

export interface ParsedEnvelope {
  readonly header: EnvelopeHeader;
  /** The exact clear-header bytes, authenticated as associated data. */
  readonly headerBytes: Uint8Array;
  readonly nonce: Uint8Array;
  /** Ciphertext followed by the tag. */
  readonly ciphertext: Uint8Array;
}

export function encodeInit(init: SessionInit): Uint8Array {
  return concatBytes(init.identityDh, init.identitySign, init.ephemeral, u32Bytes(init.signedPrekeyId));
}

export const INIT_BYTES = 3 * PUBLIC_KEY_BYTES + 4;

export function decodeInit(bytes: Uint8Array): SessionInit | undefined {
  if (bytes.length !== INIT_BYTES) return undefined;
  return {
    identityDh: bytes.slice(0, PUBLIC_KEY_BYTES),
    identitySign: bytes.slice(PUBLIC_KEY_BYTES, 2 * PUBLIC_KEY_BYTES),
    ephemeral: bytes.slice(2 * PUBLIC_KEY_BYTES, 3 * PUBLIC_KEY_BYTES),
    signedPrekeyId: readU32(bytes, 3 * PUBLIC_KEY_BYTES),
  };
}

export function encodeEnvelopeHeader(header: EnvelopeHeader): Uint8Array {
  const sender = utf8Bytes(header.sender);
  if (sender.length === 0 || sender.length > 255) throw new RangeError("sender name must be 1 to 255 bytes");
  return concatBytes(
    Uint8Array.of(ENVELOPE_VERSION, header.init === undefined ? 0 : FLAG_INIT, sender.length),
    sender,
    header.sessionId,
    header.init === undefined ? new Uint8Array(0) : encodeInit(header.init),
    header.ratchet.publicKey,
    u32Bytes(header.ratchet.previousChainLength),
    u32Bytes(header.ratchet.messageNumber),
  );
}

export function parseEnvelope(bytes: unknown): ParsedEnvelope {
  if (!(bytes instanceof Uint8Array)) throw new EnvelopeError("not_bytes", "envelope must be a Uint8Array");
  const reader = new EnvelopeReader(bytes);
  const version = reader.u8("version");
  if (version !== ENVELOPE_VERSION) {
    throw new EnvelopeError("unsupported_version", `envelope version ${version} is not supported (want 1)`);
  }
  const flags = reader.u8("flags");
  if ((flags & ~KNOWN_FLAGS) !== 0)
    throw new EnvelopeError("unknown_flags", `envelope has unknown flags ${flags}`);
  const senderLength = reader.u8("sender length");
  const sender = utf8Text(reader.take(senderLength, "sender"));
  if (senderLength === 0 || sender === undefined) {
    throw new EnvelopeError("invalid_sender", "envelope sender is empty or not UTF-8");
  }
  const sessionId = reader.take(SESSION_ID_BYTES, "session id");
  const init = (flags & FLAG_INIT) === 0 ? undefined : decodeInit(reader.take(INIT_BYTES, "init"));
  const ratchet = {
    publicKey: reader.take(PUBLIC_KEY_BYTES, "ratchet key"),
    previousChainLength: reader.u32("previous chain length"),
    messageNumber: reader.u32("message number"),
  };
  const headerBytes = bytes.slice(0, reader.offset);
  const nonce = reader.take(NONCE_BYTES, "nonce");
  const ciphertext = bytes.slice(reader.offset);
  if (ciphertext.length < MIN_CIPHERTEXT_BYTES) {
    throw new EnvelopeError("truncated", `envelope ciphertext is shorter than ${MIN_CIPHERTEXT_BYTES} bytes`);
  }
  return { header: { sender, sessionId, init, ratchet }, headerBytes, nonce, ciphertext };
}

class EnvelopeReader {
  offset = 0;
  readonly #bytes: Uint8Array;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  take(length: number, field: string): Uint8Array {
    if (this.offset + length > this.#bytes.length) {
      throw new EnvelopeError("truncated", `envelope ends inside the ${field}`);
    }
    // Copies, so later tampering with the caller's buffer cannot change parsed fields.
    const slice = this.#bytes.slice(this.offset, this.offset + length);
    this.offset += length;
    return slice;
  }

  u8(field: string): number {
    return this.take(1, field)[0] ?? 0;
  }

  u32(field: string): number {
    return readU32(this.take(4, field), 0);
  }
}

/** What anyone holding the envelope (the node, an observer) can read without keys. */
export interface EnvelopeSummary {
  readonly version: number;
  readonly sender: string;
  /** base64url */
  readonly sessionId: string;
  readonly hasInit: boolean;
  readonly signedPrekeyId: number | undefined;
  /** base64url */
  readonly ratchetKey: string;
  readonly previousChainLength: number;
  readonly messageNumber: number;
  /** Padded plaintext plus the 16-byte tag (the nonce not included): a whole number of cells plus 16. */
  readonly ciphertextBytes: number;
}

export function describeEnvelope(bytes: Uint8Array): EnvelopeSummary {
  const { header, ciphertext } = parseEnvelope(bytes);
  return {
    version: ENVELOPE_VERSION,
    sender: header.sender,
    sessionId: toBase64Url(header.sessionId),
    hasInit: header.init !== undefined,
    signedPrekeyId: header.init?.signedPrekeyId,
    ratchetKey: toBase64Url(header.ratchet.publicKey),
    previousChainLength: header.ratchet.previousChainLength,
    messageNumber: header.ratchet.messageNumber,
    ciphertextBytes: ciphertext.length,
  };
}
