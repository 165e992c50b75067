/**
 * Verifies one 64 KiB group against the object's `b3:` root with its sibling chaining
 * values, so a client can release a group's bytes before the whole object has arrived.
 */
import { bytesToWords, parentOutput } from "./blake3-compress.js";
import { groupCount, groupCvInto, groupLength } from "./blake3-tree.js";
import { walkToGroup } from "./outboard.js";

/**
 * True when `groupBytes` is group `groupIndex` of the object of `size` bytes whose BLAKE3
 * hash is `root`, as proven by `proof` (sibling CVs top-down, as from `proofFor`). False
 * also when the group's length is not the one its position implies, the proof has the
 * wrong number of CVs, or an argument is out of range.
 */
export function verifyGroup(
  root: Uint8Array,
  size: number,
  groupIndex: number,
  proof: readonly Uint8Array[],
  groupBytes: Uint8Array,
): boolean {
  if (root.length !== 32 || !Number.isSafeInteger(size) || size < 0) return false;
  const g = groupCount(size);
  if (!Number.isSafeInteger(groupIndex) || groupIndex < 0 || groupIndex >= g) return false;
  if (groupBytes.length !== groupLength(size, groupIndex)) return false;
  const rights: boolean[] = [];
  walkToGroup(g, groupIndex, (_slot, goesRight) => rights.push(goesRight));
  if (proof.length !== rights.length || proof.some((cv) => cv.length !== 32)) return false;

  // words[0..16) is the parent message (left ‖ right); the running CV sits in its half.
  const words = new Uint32Array(16);
  const depth = rights.length;
  let cvOff = depth > 0 && rights[depth - 1] ? 8 : 0;
  groupCvInto(groupBytes, 0, groupBytes.length, groupIndex, g === 1, words, cvOff);
  for (let d = depth - 1; d >= 0; d--) {
    const right = rights[d] === true;
    if ((cvOff === 8) !== right) {
      words.copyWithin(right ? 8 : 0, cvOff, cvOff + 8);
      cvOff = right ? 8 : 0;
    }
    bytesToWords(proof[d] as Uint8Array, 0, words, right ? 0 : 8);
    // The result lands where the next level up needs it.
    const next = d > 0 && rights[d - 1] ? 8 : 0;
    parentOutput(words, 0, d === 0, words, next);
    cvOff = next;
  }
  const expected = new Uint32Array(8);
  bytesToWords(root, 0, expected, 0);
  let diff = 0;
  for (let i = 0; i < 8; i++) diff |= (words[cvOff + i] as number) ^ (expected[i] as number);
  return diff === 0;
}
