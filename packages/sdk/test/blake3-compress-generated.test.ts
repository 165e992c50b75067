import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  BLAKE3_COMPRESS_FILE,
  describeRegion,
  findRegions,
  MSG_PERMUTATION,
  messageSchedule,
  renderFile,
  renderRounds,
} from "../../../scripts/blake3-rounds.js";

const text = readFileSync(new URL(`../../../${BLAKE3_COMPRESS_FILE}`, import.meta.url), "utf8");

describe("blake3-compress.ts is the output of scripts/gen-blake3-compress.ts", () => {
  const regions = findRegions(text);

  it("marks the unrolled rounds of compress and of fullChunkCv", () => {
    expect(regions.map((r) => r.functionName)).toEqual(["compress", "fullChunkCv"]);
  });

  it.each(regions.map((r) => [describeRegion(r), r] as const))("%s equals renderRounds", (_, region) => {
    // A plain comparison first: vitest's string diff of ~680 lines is slow and unhelpful.
    if (region.body !== renderRounds(region.indent)) {
      expect.fail(
        `${describeRegion(region)} differs: run \`node --import tsx scripts/gen-blake3-compress.ts\``,
      );
    }
  });

  it("is left unchanged by the generator", () => {
    expect(renderFile(text) === text).toBe(true);
  });
});

describe("the generator", () => {
  it("uses BLAKE3's message schedule", () => {
    const schedule = messageSchedule();
    expect(schedule).toHaveLength(7);
    expect(schedule[0]).toEqual([...Array(16).keys()]);
    // Round 2 reads the words in MSG_PERMUTATION's order; round 7 in the order the BLAKE3
    // reference reaches by permuting the message six times.
    expect(schedule[1]).toEqual([...MSG_PERMUTATION]);
    expect(schedule[6]).toEqual([11, 15, 5, 0, 1, 9, 8, 6, 14, 10, 2, 12, 3, 4, 7, 13]);
  });

  it("rewrites a region that was edited by hand, and only the region", () => {
    const edited = text.replace("v0 = (v0 + v4 + m0) | 0;", "v0 = (v0 + v4 + m1) | 0;");
    expect(edited === text).toBe(false);
    expect(renderFile(edited) === text).toBe(true);
    const outside = text.replace("let v15 = flags | 0;", "let v15 = flags;");
    expect(renderFile(outside) === outside).toBe(true);
  });

  it("refuses unbalanced markers", () => {
    expect(() => findRegions("  // <generated: rounds — scripts/gen-blake3-compress.ts>\n")).toThrow(
      /never closed/,
    );
    expect(() => findRegions("  // </generated>\n")).toThrow(/without a start marker/);
  });
});
