/**
 * Safety numbers: what two users read to each other (or scan) to confirm that no one swapped the
 * bundles in the directory. Like Signal's, each side contributes 30 digits derived from its name
 * and identity keys; the halves are sorted so both users see the same 60 digits.
 */
import { sha512 } from "@noble/hashes/sha2.js";
import { concatBytes, lengthPrefixed, utf8Bytes } from "./bytes.js";

export interface IdentityKeys {
  readonly user: string;
  readonly identityDh: Uint8Array;
  readonly identitySign: Uint8Array;
}

const SAFETY_NUMBER_LABEL = utf8Bytes("vest/safety-number/v1\0");
const CHUNKS_PER_PARTY = 6;
const CHUNK_BYTES = 5;
const DIGITS_PER_CHUNK = 5;

/** 12 groups of 5 digits separated by spaces; independent of argument order. */
export function safetyNumber(a: IdentityKeys, b: IdentityKeys): string {
  const halves = [partyDigits(a), partyDigits(b)].sort();
  const digits = halves.join("");
  const groups: string[] = [];
  for (let index = 0; index < digits.length; index += DIGITS_PER_CHUNK) {
    groups.push(digits.slice(index, index + DIGITS_PER_CHUNK));
  }
  return groups.join(" ");
}

/** 30 digits: six 40-bit big-endian chunks of a SHA-512 digest, each reduced mod 100000 (bias < 1e-6). */
function partyDigits(party: IdentityKeys): string {
  const digest = sha512(
    concatBytes(
      SAFETY_NUMBER_LABEL,
      lengthPrefixed(utf8Bytes(party.user)),
      party.identityDh,
      party.identitySign,
    ),
  );
  let digits = "";
  for (let chunk = 0; chunk < CHUNKS_PER_PARTY; chunk++) {
    let value = 0;
    for (const byte of digest.subarray(chunk * CHUNK_BYTES, (chunk + 1) * CHUNK_BYTES))
      value = value * 256 + byte;
    digits += String(value % 10 ** DIGITS_PER_CHUNK).padStart(DIGITS_PER_CHUNK, "0");
  }
  return digits;
}
