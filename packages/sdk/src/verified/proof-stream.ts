/**
 * The body of a chunk-verified GET reply: for each group of the span, in order, one record
 * `u8 n ‖ n × 32-byte sibling CVs (top-down) ‖ the group's bytes` (65536 bytes, or the
 * remainder for the last group; a zero-size object has one empty group). The format does
 * not depend on framing: the reader accepts the bytes split anywhere or coalesced.
 */
import { GROUP_BYTES, groupCount, groupLength } from "./blake3-tree.js";
import { expectedProofLength } from "./outboard.js";
import { verifyGroup } from "./verify-group.js";

/** A group that verified against the root; `bytes` may be a view of a pushed chunk. */
export interface VerifiedGroup {
  /** The group's index in the object. */
  readonly index: number;
  /** The group's bytes (its byte offset in the object is `index * GROUP_BYTES`). */
  readonly bytes: Uint8Array;
}

/** A group (or its record's proof) did not verify against the object's root. */
export class GroupVerificationError extends Error {
  override readonly name = "GroupVerificationError";
  constructor(
    /** The failing group's index. */
    readonly groupIndex: number,
    /** Byte offset of the failing group in the object. */
    readonly offset: number,
    reason: string,
  ) {
    super(`group ${groupIndex} (byte offset ${offset}) failed verification: ${reason}`);
  }
}

/** The stream's framing is wrong: it ended early or had bytes after the last group. */
export class ProofStreamError extends Error {
  override readonly name = "ProofStreamError";
}

/** The header of a group record: `u8 n ‖ n × 32-byte CVs`, written before the group's bytes. */
export function encodeGroupRecordHead(proof: readonly Uint8Array[]): Uint8Array {
  if (proof.length > 255) throw new RangeError(`a proof has at most 255 CVs, got ${proof.length}`);
  const head = new Uint8Array(1 + proof.length * 32);
  head[0] = proof.length;
  proof.forEach((cv, i) => {
    if (cv.length !== 32) throw new RangeError(`proof CV ${i} is ${cv.length} bytes, not 32`);
    head.set(cv, 1 + i * 32);
  });
  return head;
}

/**
 * The groups covering the byte span [start, end) of an object of `size` bytes (an empty
 * span: the group holding `start`, or the last group when `start` is `size`).
 */
export function groupSpanFor(
  start: number,
  end: number,
  size: number,
): { firstGroup: number; lastGroup: number } {
  const g = groupCount(size);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || start > end || end > size) {
    throw new RangeError(`invalid span [${start}, ${end}) of an object of ${size} bytes`);
  }
  const firstGroup = Math.min(g - 1, Math.floor(start / GROUP_BYTES));
  const lastGroup = end > start ? Math.floor((end - 1) / GROUP_BYTES) : firstGroup;
  return { firstGroup, lastGroup };
}

/** What a {@link VerifiedGroupReader} reads. */
export interface VerifiedGroupReaderOptions {
  /** The object's BLAKE3 hash (from its `b3:` address), 32 bytes. */
  readonly root: Uint8Array;
  /** The object's size in bytes. */
  readonly size: number;
  /** First group in the reply body. */
  readonly firstGroup: number;
  /** Last group in the reply body (inclusive). */
  readonly lastGroup: number;
}

/**
 * Decodes and verifies a chunk-verified reply body pushed in pieces of any size, releasing
 * each group only once it verified. Memory is bounded by one group plus one header. When a
 * group fails after others verified in the same `push`, that call returns them and the
 * error is thrown by the next `push` or `end`, so every good group before a bad one is
 * released. A group that arrives whole in one pushed chunk is released as a view of it
 * (no copy), so do not reuse pushed chunks.
 */
export class VerifiedGroupReader {
  readonly #root: Uint8Array;
  readonly #size: number;
  readonly #lastGroup: number;
  #group: number;
  /** Header of the current record: null until its count byte arrived. */
  #head: Uint8Array | null = null;
  #headFill = 0;
  /** Buffered bytes of the current group, when they span pushes. */
  #body: Uint8Array | null = null;
  #bodyFill = 0;
  #trailing = 0;
  #error: Error | null = null;

  constructor({ root, size, firstGroup, lastGroup }: VerifiedGroupReaderOptions) {
    const g = groupCount(size);
    if (root.length !== 32) throw new RangeError(`root is ${root.length} bytes, not 32`);
    if (!Number.isSafeInteger(firstGroup) || !Number.isSafeInteger(lastGroup)) {
      throw new RangeError("firstGroup and lastGroup must be integers");
    }
    if (firstGroup < 0 || firstGroup > lastGroup || lastGroup >= g) {
      throw new RangeError(`invalid group span ${firstGroup}..${lastGroup} of an object with ${g} groups`);
    }
    this.#root = root.slice();
    this.#size = size;
    this.#group = firstGroup;
    this.#lastGroup = lastGroup;
  }

  /** Feeds the next bytes of the body; returns the groups completed and verified by them. */
  push(chunk: Uint8Array): VerifiedGroup[] {
    if (this.#error) throw this.#error;
    const out: VerifiedGroup[] = [];
    try {
      this.#consume(chunk, out);
    } catch (error) {
      if (!(error instanceof GroupVerificationError) || out.length === 0) {
        this.#error = error as Error;
        throw error;
      }
      this.#error = error;
    }
    return out;
  }

  /** Declares the body complete; throws if it ended early, had trailing bytes or failed. */
  end(): void {
    if (this.#error) throw this.#error;
    if (this.#group <= this.#lastGroup) {
      const offset = this.#group * GROUP_BYTES;
      this.#error = new ProofStreamError(
        `verified stream ended early, in the record of group ${this.#group} (byte offset ${offset}); ` +
          `groups up to ${this.#lastGroup} were expected`,
      );
      throw this.#error;
    }
    if (this.#trailing > 0) {
      this.#error = new ProofStreamError(
        `verified stream had ${this.#trailing} trailing bytes after its last group ${this.#lastGroup}`,
      );
      throw this.#error;
    }
  }

  #consume(chunk: Uint8Array, out: VerifiedGroup[]): void {
    let pos = 0;
    while (pos < chunk.length) {
      if (this.#group > this.#lastGroup) {
        this.#trailing += chunk.length - pos;
        return;
      }
      const index = this.#group;
      if (this.#head === null) {
        const n = chunk[pos++] as number;
        const expected = expectedProofLength(this.#size, index);
        if (n !== expected) {
          throw new GroupVerificationError(
            index,
            index * GROUP_BYTES,
            `proof has ${n} CVs, expected ${expected}`,
          );
        }
        this.#head = new Uint8Array(n * 32);
        this.#headFill = 0;
      }
      const head = this.#head;
      if (this.#headFill < head.length) {
        const take = Math.min(head.length - this.#headFill, chunk.length - pos);
        head.set(chunk.subarray(pos, pos + take), this.#headFill);
        this.#headFill += take;
        pos += take;
        if (this.#headFill < head.length) return;
      }
      const len = groupLength(this.#size, index);
      // The chunk ended with the head (a sender writes head and group apart): wait for the
      // group, so that when it comes whole in the next chunk it is verified in place.
      if (this.#body === null && pos === chunk.length && len > 0) return;
      let bytes: Uint8Array;
      if (this.#body === null && chunk.length - pos >= len) {
        // The whole group is in this chunk: verify it in place, without a copy.
        bytes = chunk.subarray(pos, pos + len);
        pos += len;
      } else {
        this.#body ??= new Uint8Array(len);
        const take = Math.min(len - this.#bodyFill, chunk.length - pos);
        this.#body.set(chunk.subarray(pos, pos + take), this.#bodyFill);
        this.#bodyFill += take;
        pos += take;
        if (this.#bodyFill < len) return;
        bytes = this.#body;
      }
      const proof: Uint8Array[] = [];
      for (let i = 0; i < head.length; i += 32) proof.push(head.subarray(i, i + 32));
      if (!verifyGroup(this.#root, this.#size, index, proof, bytes)) {
        throw new GroupVerificationError(index, index * GROUP_BYTES, "its hash does not match the root");
      }
      out.push({ index, bytes });
      this.#head = null;
      this.#body = null;
      this.#bodyFill = 0;
      this.#group++;
    }
  }
}
