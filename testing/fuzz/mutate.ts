/** A small deterministic PRNG (xorshift32), so a run is reproducible from its seed. */
export class Rng {
  constructor(private state: number) {
    if (this.state === 0) this.state = 0x9e3779b9;
  }

  next(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state;
  }

  below(n: number): number {
    return n <= 0 ? 0 : this.next() % n;
  }
}

const INTERESTING_8 = [0x00, 0x01, 0x02, 0x7f, 0x80, 0xff, 0x28, 0xb5, 0x2f, 0xfd];
const INTERESTING_16 = [0, 1, 37, 38, 39, 0x00ff, 0x0100, 0x7fff, 0x8000, 0xffff, 4096, 4097];
const INTERESTING_32 = [0, 37, 38, 39, 1_048_576, 1_048_577, 0x7fff_ffff, 0xffff_ffff, 0xfd2f_b528];

/**
 * One mutant of `input`: 1–4 stacked edits — bit flips, interesting values (OAP header
 * bounds, zstd magic) written as u8/u16/u32 big- and little-endian, inserted, deleted or
 * duplicated ranges, truncation, and splicing with another corpus entry.
 */
export function mutate(
  input: Uint8Array,
  rng: Rng,
  other: Uint8Array | undefined,
  maxLen: number,
): Uint8Array {
  let out: Buffer = Buffer.from(input);
  const edits = 1 + rng.below(4);
  for (let e = 0; e < edits; e++) out = editOnce(out, rng, other);
  return out.byteLength > maxLen ? out.subarray(0, maxLen) : out;
}

function editOnce(buf: Buffer, rng: Rng, other: Uint8Array | undefined): Buffer {
  const at = rng.below(buf.byteLength + 1);
  switch (rng.below(11)) {
    case 0:
      if (buf.byteLength > 0)
        buf[at % buf.byteLength] = (buf[at % buf.byteLength] as number) ^ (1 << rng.below(8));
      return buf;
    case 1:
      if (buf.byteLength > 0)
        buf[at % buf.byteLength] = INTERESTING_8[rng.below(INTERESTING_8.length)] as number;
      return buf;
    case 2:
      if (buf.byteLength >= 2) {
        const v = INTERESTING_16[rng.below(INTERESTING_16.length)] as number;
        const o = rng.below(buf.byteLength - 1);
        if (rng.below(2)) buf.writeUInt16BE(v, o);
        else buf.writeUInt16LE(v, o);
      }
      return buf;
    case 3:
      if (buf.byteLength >= 4) {
        const v = INTERESTING_32[rng.below(INTERESTING_32.length)] as number;
        const o = rng.below(buf.byteLength - 3);
        if (rng.below(2)) buf.writeUInt32BE(v, o);
        else buf.writeUInt32LE(v, o);
      }
      return buf;
    case 4: {
      const n = 1 + rng.below(16);
      const bytes = Buffer.alloc(n);
      for (let i = 0; i < n; i++) bytes[i] = rng.below(256);
      return Buffer.concat([buf.subarray(0, at), bytes, buf.subarray(at)]);
    }
    case 5: {
      const n = 1 + rng.below(Math.max(1, buf.byteLength - at));
      return Buffer.concat([buf.subarray(0, at), buf.subarray(at + n)]);
    }
    case 6: {
      const n = 1 + rng.below(64);
      const piece = buf.subarray(at, at + n);
      return Buffer.concat([buf.subarray(0, at), piece, piece, buf.subarray(at + n)]);
    }
    case 7:
      return buf.subarray(0, at);
    case 8:
      if (buf.byteLength > 0) buf[at % buf.byteLength] = rng.below(256);
      return buf;
    case 9:
    case 10: {
      if (!other || other.byteLength === 0) return buf;
      const from = rng.below(other.byteLength);
      const piece = other.subarray(from, from + 1 + rng.below(other.byteLength - from));
      return rng.below(2)
        ? Buffer.concat([buf.subarray(0, at), piece])
        : Buffer.concat([buf.subarray(0, at), piece, buf.subarray(at)]);
    }
    default:
      return buf;
  }
}
