/**
 * The BLAKE3 tree of an object cut in 64 KiB groups (64 chunks of 1 KiB). BLAKE3's tree is
 * left-balanced, so every 64 KiB-aligned group (the short last one too) is a complete
 * subtree of the standard tree, the tree over groups follows the same split rule, and its
 * root is exactly the object's plain BLAKE3 hash (its `b3:` address).
 */
import {
  bytesToWords,
  CHUNK_LEN,
  chunkCvs,
  chunkRootOutput,
  parentOutput,
  wordsToBytes,
} from "./blake3-compress.js";
import { fullGroupChildrenNative } from "./native-groups.js";
import { fullGroupChildrenSimd } from "./simd/index.js";

/** Bytes in a verification group: 64 BLAKE3 chunks. */
export const GROUP_BYTES = 65536;
/** BLAKE3 chunks in a full group. */
export const GROUP_CHUNKS = GROUP_BYTES / CHUNK_LEN;

/** Number of groups of an object of `size` bytes; an empty object has one empty group. */
export function groupCount(size: number): number {
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`invalid object size ${size}`);
  return Math.max(1, Math.ceil(size / GROUP_BYTES));
}

/** Byte length of group `groupIndex` of an object of `size` bytes (only the last is short). */
export function groupLength(size: number, groupIndex: number): number {
  const g = groupCount(size);
  if (!Number.isSafeInteger(groupIndex) || groupIndex < 0 || groupIndex >= g) {
    throw new RangeError(`group ${groupIndex} out of range: the object of ${size} bytes has ${g} groups`);
  }
  return Math.min(GROUP_BYTES, size - groupIndex * GROUP_BYTES);
}

/** The number of leaves in the left subtree of `n` ≥ 2 leaves: the largest power of two < n. */
export function leftCount(n: number): number {
  let p = 1;
  while (p * 2 < n) p *= 2;
  return p;
}

/** Chunk chaining values of the group being hashed: 8 words each. */
const chunkWords = new Uint32Array(GROUP_CHUNKS * 8);

/** Merges the left-balanced subtree of chunks [lo, lo+n) of `chunkWords` into the slot of `lo`. */
function mergeChunks(lo: number, n: number, isRoot: boolean): void {
  if (n === 1) return;
  const l = leftCount(n);
  mergeChunks(lo, l, false);
  mergeChunks(lo + l, n - l, false);
  // Place the right CV just after the left one: the pair is then the parent's message.
  chunkWords.copyWithin(lo * 8 + 8, (lo + l) * 8, (lo + l) * 8 + 8);
  parentOutput(chunkWords, lo * 8, isRoot, chunkWords, lo * 8);
}

/**
 * Writes the chaining value of the group `bytes[off..off+len)` (at most 64 KiB, starting
 * at chunk counter `groupIndex * 64`) to `out[outOff..+8]`; with `isRoot` (the object is
 * this one group) it is the object's BLAKE3 hash instead.
 */
export function groupCvInto(
  bytes: Uint8Array,
  off: number,
  len: number,
  groupIndex: number,
  isRoot: boolean,
  out: Uint32Array,
  outOff: number,
): void {
  if (len > GROUP_BYTES) throw new RangeError(`a group is at most ${GROUP_BYTES} bytes, got ${len}`);
  if (isRoot && len <= CHUNK_LEN) {
    chunkRootOutput(bytes, off, len, out, outOff);
    return;
  }
  // A full group goes to native code (Node) or WebAssembly SIMD where available, all but its
  // last parent.
  if (
    len === GROUP_BYTES &&
    (fullGroupChildrenNative(bytes, off, groupIndex * GROUP_CHUNKS, chunkWords, 0) ||
      fullGroupChildrenSimd(bytes, off, groupIndex * GROUP_CHUNKS, chunkWords, 0))
  ) {
    parentOutput(chunkWords, 0, isRoot, out, outOff);
    return;
  }
  const n = chunkCvs(bytes, off, len, groupIndex * GROUP_CHUNKS, chunkWords, 0);
  mergeChunks(0, n, isRoot);
  out.set(chunkWords.subarray(0, 8), outOff);
}

/**
 * The 32-byte chaining value of group `groupIndex` (its bytes: 64 KiB, or fewer for the
 * last group). `isRoot` only when the object is this one group: the result is then the
 * object's BLAKE3 hash.
 */
export function groupCv(bytes: Uint8Array, groupIndex: number, isRoot: boolean): Uint8Array {
  const out = new Uint32Array(8);
  groupCvInto(bytes, 0, bytes.length, groupIndex, isRoot, out, 0);
  return wordsToBytes(out, 0);
}

/** The parent of two 32-byte chaining values; with `isRoot` it is the object's hash. */
export function parentCv(left: Uint8Array, right: Uint8Array, isRoot: boolean): Uint8Array {
  const words = new Uint32Array(16);
  bytesToWords(left, 0, words, 0);
  bytesToWords(right, 0, words, 8);
  parentOutput(words, 0, isRoot, words, 0);
  return wordsToBytes(words, 0);
}

/** Root hash and outboard words of a tree, from {@link treeFromCvWords}. */
export interface TreeWords {
  /** The root: the object's BLAKE3 hash, 8 words. */
  readonly root: Uint32Array;
  /** The pre-order parent pairs (left CV ‖ right CV), 16 words each; empty for one group. */
  readonly parents: Uint32Array;
}

/**
 * Builds the tree over `g` group chaining values (8 words each in `cvs`): the root and the
 * parents' (left ‖ right) pairs in pre-order, which is the outboard. For g = 1 the root is
 * the one value as given (it must have been computed with `isRoot`).
 */
export function treeFromCvWords(cvs: Uint32Array, g: number): TreeWords {
  const root = new Uint32Array(8);
  const parents = new Uint32Array((g - 1) * 16);
  // Pre-order: the pair of a node at slot p is written at p; its left subtree's parents
  // follow at p + 1 and its right subtree's at p + (left leaves). Each child writes its CV
  // straight into its half of the parent's pair, which is then the parent's message.
  const node = (
    lo: number,
    n: number,
    p: number,
    isRoot: boolean,
    dst: Uint32Array,
    dstOff: number,
  ): void => {
    if (n === 1) {
      dst.set(cvs.subarray(lo * 8, lo * 8 + 8), dstOff);
      return;
    }
    const l = leftCount(n);
    node(lo, l, p + 1, false, parents, p * 16);
    node(lo + l, n - l, p + l, false, parents, p * 16 + 8);
    parentOutput(parents, p * 16, isRoot, dst, dstOff);
  };
  node(0, g, 0, true, root, 0);
  return { root, parents };
}

/** Little-endian bytes of a word array (a view on little-endian platforms). */
export function wordsToBytesLE(words: Uint32Array): Uint8Array {
  if (new Uint8Array(Uint32Array.of(1).buffer)[0] === 1) {
    return new Uint8Array(words.buffer, words.byteOffset, words.byteLength);
  }
  const out = new Uint8Array(words.length * 4);
  words.forEach((w, i) => {
    out[i * 4] = w;
    out[i * 4 + 1] = w >>> 8;
    out[i * 4 + 2] = w >>> 16;
    out[i * 4 + 3] = w >>> 24;
  });
  return out;
}

/** Concatenated words of 32-byte chaining values. */
export function cvsToWords(groupCvs: readonly Uint8Array[]): Uint32Array {
  const words = new Uint32Array(groupCvs.length * 8);
  groupCvs.forEach((cv, i) => {
    if (cv.length !== 32) throw new RangeError(`group CV ${i} is ${cv.length} bytes, not 32`);
    bytesToWords(cv, 0, words, i * 8);
  });
  return words;
}

/**
 * The root (the object's BLAKE3 hash) of the tree over the groups' chaining values, by the
 * split rule. One group: its value is returned as is (compute it with `isRoot` true).
 */
export function treeRoot(groupCvs: readonly Uint8Array[]): Uint8Array {
  if (groupCvs.length === 0) throw new RangeError("a tree has at least one group");
  return wordsToBytes(treeFromCvWords(cvsToWords(groupCvs), groupCvs.length).root, 0);
}

/** What {@link Blake3TreeBuilder.finish} returns. */
export interface Blake3TreeResult {
  /** The object's BLAKE3-256 hash (its `b3:` address). */
  readonly root: Uint8Array;
  /** Bytes hashed. */
  readonly size: number;
  /** The bao-style pre-order parents (see outboard.ts); empty for one group. */
  readonly outboard: Uint8Array;
}

/**
 * Hashes a stream (any split) into its root and outboard, as a node receives a PUT. It
 * keeps only the group chaining values (32 B each) and the current partial group, and hashes
 * whole groups straight from the input when they arrive in one piece.
 */
export class Blake3TreeBuilder {
  readonly #group = new Uint8Array(GROUP_BYTES);
  #fill = 0;
  #groups = 0;
  #cvs = new Uint32Array(8 * 16);
  #size = 0;
  #finished = false;

  /** Adds the next bytes of the object. */
  update(bytes: Uint8Array): this {
    if (this.#finished) throw new Error("Blake3TreeBuilder: update() after finish()");
    const len = bytes.length;
    let pos = 0;
    while (pos < len) {
      // A full group is hashed only once more bytes arrive: if it were the last one and
      // the only one, it would need the ROOT flag.
      if (this.#fill === GROUP_BYTES) {
        this.#pushGroup(this.#group, 0, GROUP_BYTES);
        this.#fill = 0;
      }
      if (this.#fill === 0 && len - pos > GROUP_BYTES) {
        this.#pushGroup(bytes, pos, GROUP_BYTES);
        pos += GROUP_BYTES;
        continue;
      }
      const take = Math.min(GROUP_BYTES - this.#fill, len - pos);
      this.#group.set(bytes.subarray(pos, pos + take), this.#fill);
      this.#fill += take;
      pos += take;
    }
    this.#size += len;
    return this;
  }

  /** The root, size and outboard; the builder cannot be updated afterwards. */
  finish(): Blake3TreeResult {
    if (this.#finished) throw new Error("Blake3TreeBuilder: finish() called twice");
    this.#finished = true;
    if (this.#groups === 0) {
      const root = new Uint32Array(8);
      groupCvInto(this.#group, 0, this.#fill, 0, true, root, 0);
      return { root: wordsToBytes(root, 0), size: this.#size, outboard: new Uint8Array(0) };
    }
    this.#pushGroup(this.#group, 0, this.#fill);
    const tree = treeFromCvWords(this.#cvs, this.#groups);
    return { root: wordsToBytes(tree.root, 0), size: this.#size, outboard: wordsToBytesLE(tree.parents) };
  }

  #pushGroup(bytes: Uint8Array, off: number, len: number): void {
    if (this.#cvs.length < (this.#groups + 1) * 8) {
      const grown = new Uint32Array(this.#cvs.length * 2);
      grown.set(this.#cvs);
      this.#cvs = grown;
    }
    groupCvInto(bytes, off, len, this.#groups, false, this.#cvs, this.#groups * 8);
    this.#groups++;
  }
}
