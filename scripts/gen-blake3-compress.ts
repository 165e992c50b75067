// Rewrites the generated regions of packages/sdk/src/verified/blake3-compress.ts (BLAKE3's 7
// rounds unrolled, between the `// <generated: rounds …>` and `// </generated>` markers) from
// scripts/blake3-rounds.ts; everything outside the markers is left as written by hand.
//
//   node --import tsx scripts/gen-blake3-compress.ts           rewrite the regions
//   node --import tsx scripts/gen-blake3-compress.ts --check   exit 1, naming each region that
//                                                              differs, if the file is stale
//
// The output is already biome-formatted, so no `biome format` is needed after it.
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  BLAKE3_COMPRESS_FILE,
  describeRegion,
  findRegions,
  renderFile,
  renderRounds,
} from "./blake3-rounds.js";

const FILE = fileURLToPath(new URL(`../${BLAKE3_COMPRESS_FILE}`, import.meta.url));

function main(args: string[]): number {
  const check = args.includes("--check");
  const unknown = args.filter((a) => a !== "--check");
  if (unknown.length > 0) {
    process.stderr.write(
      `unknown argument(s): ${unknown.join(" ")}\nusage: node --import tsx scripts/gen-blake3-compress.ts [--check]\n`,
    );
    return 2;
  }
  const text = readFileSync(FILE, "utf8");
  let regions: ReturnType<typeof findRegions>;
  try {
    regions = findRegions(text);
  } catch (err) {
    process.stderr.write(`${BLAKE3_COMPRESS_FILE}: ${(err as Error).message}\n`);
    return 1;
  }
  if (regions.length === 0) {
    process.stderr.write(`${BLAKE3_COMPRESS_FILE}: no generated region (no start marker found)\n`);
    return 1;
  }

  if (check) {
    let stale = 0;
    for (const region of regions) {
      const expected = renderRounds(region.indent);
      if (region.body === expected) continue;
      stale++;
      process.stderr.write(
        `${BLAKE3_COMPRESS_FILE}: ${describeRegion(region)} differs from the generator's output\n${firstDifference(region.startLine, region.body, expected)}`,
      );
    }
    if (stale > 0) {
      process.stderr.write("run `node --import tsx scripts/gen-blake3-compress.ts` to rewrite it\n");
      return 1;
    }
    process.stderr.write(`${BLAKE3_COMPRESS_FILE}: ${regions.length} generated regions, up to date\n`);
    return 0;
  }

  const next = renderFile(text);
  if (next === text) {
    process.stderr.write(
      `${BLAKE3_COMPRESS_FILE}: ${regions.length} generated regions, already up to date\n`,
    );
  } else {
    writeFileSync(FILE, next);
    process.stderr.write(`${BLAKE3_COMPRESS_FILE}: ${regions.length} generated regions rewritten\n`);
  }
  return 0;
}

/** The first line where `actual` and `expected` (a region's body after line `startLine`) differ. */
function firstDifference(startLine: number, actual: string, expected: string): string {
  const a = actual.split("\n");
  const e = expected.split("\n");
  for (let i = 0; i < Math.max(a.length, e.length); i++) {
    if (a[i] === e[i]) continue;
    const show = (line: string | undefined) => (line === undefined ? "(no line)" : JSON.stringify(line));
    return `  first at line ${startLine + 1 + i}: found ${show(a[i])}, expected ${show(e[i])}\n`;
  }
  return "";
}

process.exitCode = main(process.argv.slice(2));
