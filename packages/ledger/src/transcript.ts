/**
 * A Fiat–Shamir transcript in the style of Merlin: every public input is appended under a
 * label before the challenge that depends on it, so a proof cannot be replayed against other
 * statements or parameters (the "Frozen Heart" weakness comes from leaving some out).
 *
 * Built on SHA-512: the transcript is a running hash of length-prefixed (label, message)
 * pairs. A challenge hashes a copy of the state with its own label into 64 bytes, reduced
 * modulo ℓ, and is then appended itself, so later challenges depend on earlier ones. It is
 * not byte-compatible with Merlin (STROBE-128 over Keccak), so proofs from dalek-style
 * libraries do not verify here.
 */
import { sha512 } from "@noble/hashes/sha2.js";
import { utf8ToBytes } from "@noble/hashes/utils.js";
import { type Point, scalarFromWide, scalarToBytes } from "./group.js";

type Hasher = ReturnType<typeof sha512.create>;

export class Transcript {
  #state: Hasher;

  /** `domain` separates protocols (and their versions) from each other. */
  constructor(domain: string) {
    this.#state = sha512.create();
    this.appendMessage("dom-sep", utf8ToBytes(domain));
  }

  /** Appends a labelled message: u32 label length ‖ label ‖ u32 message length ‖ message. */
  appendMessage(label: string, message: Uint8Array): void {
    const labelBytes = utf8ToBytes(label);
    this.#state.update(u32le(labelBytes.length)).update(labelBytes);
    this.#state.update(u32le(message.length)).update(message);
  }

  /** Appends an unsigned integer below 2^53 as 8 bytes little-endian. */
  appendU64(label: string, n: number): void {
    if (!Number.isSafeInteger(n) || n < 0)
      throw new RangeError(`appendU64: ${n} is not a safe unsigned integer`);
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(n), true);
    this.appendMessage(label, bytes);
  }

  appendPoint(label: string, point: Point): void {
    this.appendMessage(label, point.toBytes());
  }

  /** Appends an already encoded element (as it arrived), saving a re-encode. */
  appendEncoded(label: string, bytes: Uint8Array): void {
    this.appendMessage(label, bytes);
  }

  appendScalar(label: string, s: bigint): void {
    this.appendMessage(label, scalarToBytes(s));
  }

  /** A challenge scalar, never zero (the protocols invert their challenges). */
  challengeScalar(label: string): bigint {
    for (let attempt = 0; ; attempt++) {
      const probe = this.#state.clone();
      const labelBytes = utf8ToBytes(label);
      probe.update(utf8ToBytes("challenge")).update(u32le(labelBytes.length)).update(labelBytes);
      probe.update(u32le(attempt));
      const c = scalarFromWide(probe.digest());
      this.appendMessage(label, scalarToBytes(c));
      if (c !== 0n) return c;
    }
  }
}

function u32le(n: number): Uint8Array {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, n, true);
  return bytes;
}
