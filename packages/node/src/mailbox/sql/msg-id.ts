import { randomInt } from "node:crypto";

const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/** Digit value by char code; -1 for a char that is not a digit. */
const VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) VALUE[ALPHABET.charCodeAt(i)] = i;
const TIME_CHARS = 10;
const SALT_CHARS = 5;
const SEQ_CHARS = 11;
/** 2^53: seqs above it would lose precision as numbers (the engine never gets near). */
const MAX_SEQ = Number.MAX_SAFE_INTEGER;

/**
 * Message ids of the SQL engine: ULIDs (48-bit ms time, then 80 bits) whose 80 bits are a
 * 25-bit salt drawn when the engine opens and the row's 55-bit `seq`. The engine finds a
 * message from its id without an index on the id (every DELETE and every receipt names one),
 * and ids from one engine sort in send order. The row keeps the id, and every lookup
 * compares it, so an id with a right seq and a wrong time or salt names nothing.
 */
export class MsgIds {
  private readonly salt: string;
  private lastTime = -1;
  /** Time and salt of `lastTime`: ids of one millisecond share them. */
  private prefix = "";

  constructor() {
    this.salt = encode(randomInt(2 ** 25), SALT_CHARS);
  }

  make(now: number, seq: number): string {
    const time = Math.floor(now);
    if (time > this.lastTime) {
      this.lastTime = time;
      this.prefix = encode(time, TIME_CHARS) + this.salt;
    }
    return this.prefix + encode(seq, SEQ_CHARS);
  }
}

/** The seq an id of this engine carries; undefined for anything else. */
export function seqOf(msgId: string): number | undefined {
  if (msgId.length !== TIME_CHARS + SALT_CHARS + SEQ_CHARS) return undefined;
  let seq = 0;
  for (let i = TIME_CHARS + SALT_CHARS; i < msgId.length; i++) {
    const code = msgId.charCodeAt(i);
    const digit = code < 128 ? (VALUE[code] as number) : -1;
    if (digit < 0) return undefined;
    seq = seq * 32 + digit;
  }
  return seq >= 1 && seq <= MAX_SEQ ? seq : undefined;
}

function encode(value: number, chars: number): string {
  let out = "";
  let rest = value;
  for (let i = 0; i < chars; i++) {
    out = (ALPHABET[rest % 32] as string) + out;
    rest = Math.floor(rest / 32);
  }
  return out;
}
