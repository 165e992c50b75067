import { randomBytes } from "node:crypto";
import fc from "fast-check";
import { createBLAKE3 } from "hash-wasm";
import { describe, expect, it } from "vitest";
import {
  Blake3TreeBuilder,
  buildOutboard,
  encodeGroupRecordHead,
  expectedProofLength,
  GROUP_BYTES,
  GroupVerificationError,
  groupCount,
  groupCv,
  groupSpanFor,
  outboardBytes,
  ProofStreamError,
  parentCv,
  proofFor,
  treeRoot,
  type VerifiedGroup,
  VerifiedGroupReader,
  verifyGroup,
} from "../src/verified/index.js";

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");

/** Byte equality without vitest's slow element-wise diff of large arrays. */
const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0;

async function reference(bytes: Uint8Array): Promise<string> {
  const hasher = await createBLAKE3();
  hasher.update(bytes);
  return hasher.digest("hex");
}

/** A small deterministic PRNG, so failures reproduce. */
function prng(seed: number): (max: number) => number {
  let s = seed >>> 0 || 1;
  return (max) => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % max;
  };
}

/** `bytes` cut at random points (pieces of 0..maxPiece bytes, empty ones included). */
function split(bytes: Uint8Array, rand: (max: number) => number, maxPiece: number): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; ) {
    const take = Math.min(bytes.length - at, rand(maxPiece + 1));
    pieces.push(bytes.subarray(at, at + take));
    at += take;
  }
  return pieces;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Group CVs computed one group at a time (not streaming). */
function groupCvsOf(bytes: Uint8Array): Uint8Array[] {
  const g = groupCount(bytes.length);
  return Array.from({ length: g }, (_, i) =>
    groupCv(bytes.subarray(i * GROUP_BYTES, (i + 1) * GROUP_BYTES), i, g === 1),
  );
}

interface Encoded {
  /** The reply body. */
  readonly body: Uint8Array;
  /** Start offset of each group's record in the body. */
  readonly recordStarts: number[];
}

/** The chunk-verified reply body of groups first..last, as a server writes it. */
function encodeSpan(bytes: Uint8Array, outboard: Uint8Array, first: number, last: number): Encoded {
  const parts: Uint8Array[] = [];
  const recordStarts: number[] = [];
  let at = 0;
  for (let i = first; i <= last; i++) {
    const head = encodeGroupRecordHead(proofFor(outboard, bytes.length, i));
    const group = bytes.subarray(i * GROUP_BYTES, Math.min(bytes.length, (i + 1) * GROUP_BYTES));
    recordStarts.push(at);
    parts.push(head, group);
    at += head.length + group.length;
  }
  return { body: concat(parts), recordStarts };
}

/** Pushes the pieces, collecting released groups until an error. */
function readAll(
  reader: VerifiedGroupReader,
  pieces: readonly Uint8Array[],
): { groups: VerifiedGroup[]; error: unknown } {
  const groups: VerifiedGroup[] = [];
  try {
    for (const piece of pieces) groups.push(...reader.push(piece));
    reader.end();
  } catch (error) {
    return { groups, error };
  }
  return { groups, error: undefined };
}

const SIZES = [
  0, 1, 63, 64, 65, 1023, 1024, 1025, 2048, 3000, 65535, 65536, 65537, 131072, 131073, 196608, 200000, 1e6,
  5e6,
];

describe("the BLAKE3 group tree", () => {
  it("has the plain BLAKE3 hash as its root, whole, per group and streamed", async () => {
    const rand = prng(7);
    const sizes = [...SIZES, 1 + rand(300_000), 1 + rand(3_000_000), 64 * GROUP_BYTES + rand(GROUP_BYTES)];
    for (const size of sizes) {
      const bytes = randomBytes(size);
      const expected = await reference(bytes);
      const whole = new Blake3TreeBuilder().update(bytes).finish();
      expect(hex(whole.root), `size ${size}`).toBe(expected);
      expect(whole.size).toBe(size);
      const cvs = groupCvsOf(bytes);
      expect(hex(treeRoot(cvs)), `size ${size}`).toBe(expected);
      expect(same(whole.outboard, buildOutboard(cvs))).toBe(true);
    }
  });

  it("gives the same root and outboard fed in random pieces, unaligned ones included", async () => {
    const rand = prng(11);
    for (const size of [0, 1, 1025, 65536, 65537, 131072, 300_001, 1_000_000]) {
      const bytes = randomBytes(size + 1).subarray(1);
      const whole = new Blake3TreeBuilder().update(bytes).finish();
      for (const maxPiece of [7, 4096, 100_000, 300_000]) {
        const builder = new Blake3TreeBuilder();
        for (const piece of split(bytes, rand, maxPiece)) builder.update(piece);
        const streamed = builder.finish();
        expect(hex(streamed.root), `size ${size}, pieces ≤ ${maxPiece}`).toBe(hex(whole.root));
        expect(same(streamed.outboard, whole.outboard)).toBe(true);
        expect(streamed.size).toBe(size);
      }
    }
  });

  it("combines two groups with parentCv into the root", async () => {
    const bytes = randomBytes(GROUP_BYTES + 10);
    const root = parentCv(
      groupCv(bytes.subarray(0, GROUP_BYTES), 0, false),
      groupCv(bytes.subarray(GROUP_BYTES), 1, false),
      true,
    );
    expect(hex(root)).toBe(await reference(bytes));
  });

  it("refuses use after finish", () => {
    const builder = new Blake3TreeBuilder();
    builder.finish();
    expect(() => builder.update(new Uint8Array(1))).toThrow(/after finish/);
    expect(() => builder.finish()).toThrow(/twice/);
  });
});

describe("the outboard", () => {
  it("is (g − 1) · 64 bytes, at most size / 1024 (< 0.1%) for objects of 64 KiB or more", () => {
    for (const size of [...SIZES, 1e9, 2 ** 40 + 1]) {
      const g = Math.max(1, Math.ceil(size / GROUP_BYTES));
      expect(outboardBytes(size)).toBe((g - 1) * 64);
      if (size >= GROUP_BYTES) expect(outboardBytes(size)).toBeLessThanOrEqual(size / 1024);
    }
    for (const size of [0, 65536, 65537, 1_000_000]) {
      expect(new Blake3TreeBuilder().update(randomBytes(size)).finish().outboard.length).toBe(
        outboardBytes(size),
      );
    }
  });

  it("stores the parents in pre-order, root pair first", () => {
    // 3 groups: root = P(P(c0, c1), c2); pre-order pairs: [P(c0,c1) ‖ c2], [c0 ‖ c1].
    const cvs = [randomBytes(32), randomBytes(32), randomBytes(32)].map((b) => new Uint8Array(b));
    const outboard = buildOutboard(cvs);
    const left = parentCv(cvs[0] as Uint8Array, cvs[1] as Uint8Array, false);
    expect(outboard).toEqual(
      concat([left, cvs[2] as Uint8Array, cvs[0] as Uint8Array, cvs[1] as Uint8Array]),
    );
    expect(treeRoot(cvs)).toEqual(parentCv(left, cvs[2] as Uint8Array, true));
    const size = 2 * GROUP_BYTES + 5;
    expect(proofFor(outboard, size, 0)).toEqual([cvs[2], cvs[1]]);
    expect(proofFor(outboard, size, 1)).toEqual([cvs[2], cvs[0]]);
    expect(proofFor(outboard, size, 2)).toEqual([left]);
    expect([0, 1, 2].map((i) => expectedProofLength(size, i))).toEqual([2, 2, 1]);
  });

  it("has proofs as long as each group's depth", () => {
    expect(expectedProofLength(0, 0)).toBe(0);
    expect(expectedProofLength(GROUP_BYTES, 0)).toBe(0);
    // 5 groups: left subtree of 4 (depth 3 below the root), group 4 alone on the right.
    expect([0, 1, 2, 3, 4].map((i) => expectedProofLength(4 * GROUP_BYTES + 1, i))).toEqual([3, 3, 3, 3, 1]);
    expect(() => expectedProofLength(GROUP_BYTES, 1)).toThrow(RangeError);
    expect(() => proofFor(new Uint8Array(10), 2 * GROUP_BYTES, 0)).toThrow(/outboard is 10 bytes/);
  });
});

describe("verifyGroup", () => {
  const size = 5 * GROUP_BYTES + 1234;
  const bytes = randomBytes(size);
  const { root, outboard } = new Blake3TreeBuilder().update(bytes).finish();
  const groupOf = (i: number): Uint8Array => bytes.subarray(i * GROUP_BYTES, (i + 1) * GROUP_BYTES);

  it("accepts every group with its proof", () => {
    for (let i = 0; i < groupCount(size); i++) {
      expect(verifyGroup(root, size, i, proofFor(outboard, size, i), groupOf(i)), `group ${i}`).toBe(true);
    }
  });

  it("accepts one-group objects (the empty one too) with an empty proof", () => {
    for (const n of [0, 1, 1024, 1025, GROUP_BYTES]) {
      const one = randomBytes(n);
      const result = new Blake3TreeBuilder().update(one).finish();
      expect(verifyGroup(result.root, n, 0, [], one), `size ${n}`).toBe(true);
      expect(verifyGroup(result.root, n, 0, [new Uint8Array(32)], one)).toBe(false);
    }
  });

  it("refuses a wrong proof length, a wrong group length, a wrong index or another group", () => {
    const proof = proofFor(outboard, size, 2);
    expect(verifyGroup(root, size, 2, proof.slice(1), groupOf(2))).toBe(false);
    expect(verifyGroup(root, size, 2, [...proof, new Uint8Array(32)], groupOf(2))).toBe(false);
    expect(verifyGroup(root, size, 2, proof, groupOf(3))).toBe(false);
    expect(verifyGroup(root, size, 3, proof, groupOf(2))).toBe(false);
    const last = groupCount(size) - 1;
    const lastProof = proofFor(outboard, size, last);
    expect(verifyGroup(root, size, last, lastProof, groupOf(last).subarray(1))).toBe(false);
    expect(verifyGroup(root, size, last, lastProof, concat([groupOf(last), new Uint8Array(1)]))).toBe(false);
    expect(verifyGroup(root, size, last + 1, lastProof, new Uint8Array(0))).toBe(false);
    expect(verifyGroup(root, size + 1, last, lastProof, groupOf(last))).toBe(false);
  });
});

describe("the proof stream", () => {
  it("verifies every group of several objects, the body re-chunked at random", () => {
    const rand = prng(3);
    for (const size of [0, 1, 65536, 65537, 200_000, 17 * GROUP_BYTES + 99]) {
      const bytes = randomBytes(size);
      const { root, outboard } = new Blake3TreeBuilder().update(bytes).finish();
      const last = groupCount(size) - 1;
      const { body } = encodeSpan(bytes, outboard, 0, last);
      for (const maxPiece of [1, 33, 70_000, 1_000_000]) {
        if (maxPiece === 1 && size > 200_000) continue;
        const reader = new VerifiedGroupReader({ root, size, firstGroup: 0, lastGroup: last });
        const { groups, error } = readAll(reader, split(body, rand, maxPiece));
        expect(error).toBeUndefined();
        expect(groups.map((g) => g.index)).toEqual(Array.from({ length: last + 1 }, (_, i) => i));
        expect(same(concat(groups.map((g) => g.bytes)), bytes)).toBe(true);
      }
    }
  });

  it("verifies a group in place when it arrives as its own chunk after its head (no copy)", () => {
    const size = 3 * GROUP_BYTES;
    const bytes = randomBytes(size);
    const { root, outboard } = new Blake3TreeBuilder().update(bytes).finish();
    const reader = new VerifiedGroupReader({ root, size, firstGroup: 0, lastGroup: 2 });
    for (let i = 0; i < 3; i++) {
      expect(reader.push(encodeGroupRecordHead(proofFor(outboard, size, i)))).toEqual([]);
      const group = Uint8Array.from(bytes.subarray(i * GROUP_BYTES, (i + 1) * GROUP_BYTES));
      const [released] = reader.push(group);
      expect(released?.index).toBe(i);
      // A view of the chunk pushed, not a copy: a node sends head and group as two frames.
      expect(released?.bytes.buffer).toBe(group.buffer);
    }
    reader.end();
  });

  it("verifies a range's groups on their own", () => {
    const size = 10 * GROUP_BYTES + 777;
    const bytes = randomBytes(size);
    const { root, outboard } = new Blake3TreeBuilder().update(bytes).finish();
    for (const [start, end] of [
      [200_000, 450_000],
      [GROUP_BYTES * 3, GROUP_BYTES * 4],
      [size - 1, size],
      [5, 6],
    ] as const) {
      const { firstGroup, lastGroup } = groupSpanFor(start, end, size);
      const { body } = encodeSpan(bytes, outboard, firstGroup, lastGroup);
      const reader = new VerifiedGroupReader({ root, size, firstGroup, lastGroup });
      const { groups, error } = readAll(reader, split(body, prng(start + 1), 50_000));
      expect(error).toBeUndefined();
      expect(groups.map((g) => g.index)).toEqual(
        Array.from({ length: lastGroup - firstGroup + 1 }, (_, i) => firstGroup + i),
      );
      const got = concat(groups.map((g) => g.bytes));
      const lastEnd = Math.min(size, (lastGroup + 1) * GROUP_BYTES);
      expect(same(got, bytes.subarray(firstGroup * GROUP_BYTES, lastEnd))).toBe(true);
      const from = start - firstGroup * GROUP_BYTES;
      expect(same(got.subarray(from, from + end - start), bytes.subarray(start, end))).toBe(true);
    }
  });

  it("fails exactly the group holding a flipped byte, after releasing the groups before it", () => {
    const size = 6 * GROUP_BYTES + 4321;
    const bytes = randomBytes(size);
    const { root, outboard } = new Blake3TreeBuilder().update(bytes).finish();
    const last = groupCount(size) - 1;
    const { body, recordStarts } = encodeSpan(bytes, outboard, 0, last);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: body.length - 1 }),
        fc.integer({ min: 1, max: 255 }),
        fc.integer({ min: 1, max: 200_000 }),
        fc.integer(),
        (at, mask, maxPiece, seed) => {
          const bad = body.slice();
          bad[at] = (bad[at] as number) ^ mask;
          const holder = recordStarts.findLastIndex((start) => start <= at);
          const reader = new VerifiedGroupReader({ root, size, firstGroup: 0, lastGroup: last });
          const { groups, error } = readAll(reader, split(bad, prng(seed), maxPiece));
          expect(error).toBeInstanceOf(GroupVerificationError);
          const failure = error as GroupVerificationError;
          expect(failure.groupIndex).toBe(holder);
          expect(failure.offset).toBe(holder * GROUP_BYTES);
          expect(failure.message).toContain(`group ${holder} `);
          expect(failure.message).toContain(`offset ${holder * GROUP_BYTES}`);
          expect(groups.map((g) => g.index)).toEqual(Array.from({ length: holder }, (_, i) => i));
          expect(() => reader.end()).toThrow(GroupVerificationError);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("fails a record whose proof has the wrong length", () => {
    const size = 3 * GROUP_BYTES;
    const bytes = randomBytes(size);
    const { root, outboard } = new Blake3TreeBuilder().update(bytes).finish();
    const proof = proofFor(outboard, size, 1);
    for (const wrong of [proof.slice(1), [...proof, new Uint8Array(32)]]) {
      const reader = new VerifiedGroupReader({ root, size, firstGroup: 1, lastGroup: 1 });
      const body = concat([encodeGroupRecordHead(wrong), bytes.subarray(GROUP_BYTES, 2 * GROUP_BYTES)]);
      expect(() => reader.push(body)).toThrow(/group 1 \(byte offset 65536\).*proof has \d CVs, expected 2/);
      expect(() => reader.push(new Uint8Array(1))).toThrow(GroupVerificationError);
    }
  });

  it("fails in end() when the body is truncated or has trailing bytes", () => {
    const size = 3 * GROUP_BYTES + 10;
    const bytes = randomBytes(size);
    const { root, outboard } = new Blake3TreeBuilder().update(bytes).finish();
    const { body } = encodeSpan(bytes, outboard, 0, 3);
    const rand = prng(5);
    for (const cut of [
      0,
      1,
      33,
      65,
      body.length - 1,
      ...Array.from({ length: 5 }, () => rand(body.length)),
    ]) {
      const reader = new VerifiedGroupReader({ root, size, firstGroup: 0, lastGroup: 3 });
      for (const piece of split(body.subarray(0, cut), rand, 40_000)) reader.push(piece);
      expect(() => reader.end(), `cut at ${cut}`).toThrow(ProofStreamError);
      expect(() => reader.end()).toThrow(/ended early/);
    }
    const reader = new VerifiedGroupReader({ root, size, firstGroup: 0, lastGroup: 3 });
    expect(reader.push(body).length).toBe(4);
    expect(reader.push(new Uint8Array(3))).toEqual([]);
    expect(() => reader.end()).toThrow(/3 trailing bytes/);
  });

  it("maps byte spans to groups and refuses bad spans", () => {
    const size = 3 * GROUP_BYTES + 10;
    expect(groupSpanFor(0, size, size)).toEqual({ firstGroup: 0, lastGroup: 3 });
    expect(groupSpanFor(GROUP_BYTES - 1, GROUP_BYTES + 1, size)).toEqual({ firstGroup: 0, lastGroup: 1 });
    expect(groupSpanFor(GROUP_BYTES, 2 * GROUP_BYTES, size)).toEqual({ firstGroup: 1, lastGroup: 1 });
    expect(groupSpanFor(size, size, size)).toEqual({ firstGroup: 3, lastGroup: 3 });
    expect(groupSpanFor(0, 0, 0)).toEqual({ firstGroup: 0, lastGroup: 0 });
    expect(() => groupSpanFor(5, 4, size)).toThrow(RangeError);
    expect(() => groupSpanFor(0, size + 1, size)).toThrow(RangeError);
    expect(
      () => new VerifiedGroupReader({ root: new Uint8Array(32), size, firstGroup: 2, lastGroup: 4 }),
    ).toThrow(RangeError);
  });
});
