/**
 * The outboard: the tree's parent nodes stored next to an object, so a node can serve any
 * 64 KiB group with the sibling chaining values that prove it against the `b3:` address.
 * Format (bao-style pre-order parents): an object of g groups has g − 1 parents; the
 * outboard is their (left CV ‖ right CV) pairs, 64 bytes each, in pre-order (the root's
 * pair first, then the left subtree's parents, then the right subtree's); empty for g = 1.
 */
import { cvsToWords, groupCount, leftCount, treeFromCvWords, wordsToBytesLE } from "./blake3-tree.js";

/** Bytes of one parent node in the outboard: left CV ‖ right CV. */
export const PARENT_BYTES = 64;

/** The outboard of the tree over `groupCvs` (the groups' 32-byte chaining values, in order). */
export function buildOutboard(groupCvs: readonly Uint8Array[]): Uint8Array {
  if (groupCvs.length === 0) throw new RangeError("a tree has at least one group");
  if (groupCvs.length === 1) return new Uint8Array(0);
  return wordsToBytesLE(treeFromCvWords(cvsToWords(groupCvs), groupCvs.length).parents);
}

/** Outboard length for an object of `size` bytes: (g − 1) · 64. */
export function outboardBytes(size: number): number {
  return (groupCount(size) - 1) * PARENT_BYTES;
}

/**
 * Walks from the root down to group `groupIndex` of a g-group tree, calling `visit` at each
 * parent with its pre-order slot and whether the group lies in its right subtree.
 */
export function walkToGroup(
  g: number,
  groupIndex: number,
  visit: (slot: number, goesRight: boolean) => void,
): void {
  if (!Number.isSafeInteger(groupIndex) || groupIndex < 0 || groupIndex >= g) {
    throw new RangeError(`group ${groupIndex} out of range: the object has ${g} groups`);
  }
  let lo = 0;
  let n = g;
  let slot = 0;
  while (n > 1) {
    const l = leftCount(n);
    const goesRight = groupIndex >= lo + l;
    visit(slot, goesRight);
    if (goesRight) {
      lo += l;
      n -= l;
      slot += l;
    } else {
      n = l;
      slot += 1;
    }
  }
}

/** Number of sibling CVs proving group `groupIndex` of an object of `size` bytes: its depth. */
export function expectedProofLength(size: number, groupIndex: number): number {
  let depth = 0;
  walkToGroup(groupCount(size), groupIndex, () => depth++);
  return depth;
}

/**
 * The proof of group `groupIndex`: the sibling chaining values from the root down to the
 * group (top-down, 32 bytes each; views into `outboard`). Empty for a one-group object.
 */
export function proofFor(outboard: Uint8Array, size: number, groupIndex: number): Uint8Array[] {
  const expected = outboardBytes(size);
  if (outboard.length !== expected) {
    throw new RangeError(
      `outboard is ${outboard.length} bytes; an object of ${size} bytes needs ${expected}`,
    );
  }
  const proof: Uint8Array[] = [];
  walkToGroup(groupCount(size), groupIndex, (slot, goesRight) => {
    // Going right, the sibling is the left CV of the pair, and vice versa.
    const at = slot * PARENT_BYTES + (goesRight ? 0 : 32);
    proof.push(outboard.subarray(at, at + 32));
  });
  return proof;
}
