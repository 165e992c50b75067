/** Bytes in a DHT id (node ids and keys share one 256-bit space). */
export const ID_BYTES = 32;

/** Bits in a DHT id; also the number of k-buckets in a routing table. */
export const ID_BITS = ID_BYTES * 8;

/** A 256-bit node id or key. */
export type DhtId = Uint8Array;

/** Whether `id` has the right length to be a DHT id (checked on everything that comes off the wire). */
export function isDhtId(id: unknown): id is DhtId {
  return id instanceof Uint8Array && id.length === ID_BYTES;
}

/** XOR distance between two ids, as a new 32-byte array (big-endian: byte 0 is most significant). */
export function xorDistance(a: DhtId, b: DhtId): Uint8Array {
  const out = new Uint8Array(ID_BYTES);
  for (let i = 0; i < ID_BYTES; i++) out[i] = (a[i] ?? 0) ^ (b[i] ?? 0);
  return out;
}

/**
 * Orders `a` and `b` by XOR distance to `target`, without allocating (this runs inside every
 * sort of a lookup's shortlist): negative when `a` is closer, positive when `b` is, 0 if equal.
 */
export function distanceCompare(target: DhtId, a: DhtId, b: DhtId): number {
  for (let i = 0; i < ID_BYTES; i++) {
    const t = target[i] ?? 0;
    const da = (a[i] ?? 0) ^ t;
    const db = (b[i] ?? 0) ^ t;
    if (da !== db) return da - db;
  }
  return 0;
}

/**
 * The length of the common prefix of `a` and `b` in bits (0–256): the index of the k-bucket
 * `b` belongs to in `a`'s routing table. 256 means the ids are equal.
 */
export function bucketIndex(a: DhtId, b: DhtId): number {
  for (let i = 0; i < ID_BYTES; i++) {
    const x = (a[i] ?? 0) ^ (b[i] ?? 0);
    if (x !== 0) return i * 8 + Math.clz32(x) - 24;
  }
  return ID_BITS;
}

/** Whether two ids are byte-equal. */
export function idEquals(a: DhtId, b: DhtId): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** Lower-case hex of an id: the map key the core uses, and the form logs print. */
export function idToHex(id: DhtId): string {
  let s = "";
  for (let i = 0; i < id.length; i++) s += HEX[id[i] ?? 0];
  return s;
}

/** Parses 64 hex digits into an id; throws on any other input. */
export function idFromHex(hex: string): DhtId {
  if (!/^[0-9a-fA-F]{64}$/.test(hex))
    throw new Error(`a DHT id is 64 hex digits, got ${JSON.stringify(hex)}`);
  const out = new Uint8Array(ID_BYTES);
  for (let i = 0; i < ID_BYTES; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/**
 * A compact map key for an id: 16 UTF-16 code units, two id bytes each. Several times cheaper
 * than hex, which matters in lookups (every contact of every answer is keyed); never shown.
 */
export function idKey(id: DhtId): string {
  let s = "";
  for (let i = 0; i < id.length; i += 2) s += String.fromCharCode(((id[i] ?? 0) << 8) | (id[i + 1] ?? 0));
  return s;
}

/** A short prefix of the hex form, for logs and test names. */
export function shortId(id: DhtId): string {
  return idToHex(id).slice(0, 8);
}

/** A uniformly random id drawn from `random` (a source of floats in [0, 1)). */
export function randomId(random: () => number): DhtId {
  const out = new Uint8Array(ID_BYTES);
  for (let i = 0; i < ID_BYTES; i++) out[i] = Math.floor(random() * 256) & 0xff;
  return out;
}

/**
 * A random id whose common prefix with `self` is exactly `index` bits: a target that lands in
 * bucket `index`, used to refresh that bucket.
 */
export function randomIdInBucket(self: DhtId, index: number, random: () => number): DhtId {
  if (index < 0 || index >= ID_BITS) throw new RangeError(`bucket index ${index} out of range`);
  const out = randomId(random);
  const byte = index >> 3;
  const bit = 7 - (index & 7);
  for (let i = 0; i < byte; i++) out[i] = self[i] ?? 0;
  const s = self[byte] ?? 0;
  const keepMask = (0xff << (bit + 1)) & 0xff; // bits above `bit` copied from self
  const flip = 1 << bit;
  const lowMask = flip - 1;
  out[byte] = (s & keepMask) | (~s & flip) | ((out[byte] ?? 0) & lowMask);
  return out;
}
