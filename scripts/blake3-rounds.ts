// The pure part of the generator of packages/sdk/src/verified/blake3-compress.ts (the CLI that
// rewrites the file is scripts/gen-blake3-compress.ts): renders BLAKE3's 7 rounds unrolled,
// with the message permutation applied at write time, and finds and rewrites the marked
// regions of the file. No I/O here, so the test can check the committed file against it.

/** Where the rounds are written, from the repository root. */
export const BLAKE3_COMPRESS_FILE = "packages/sdk/src/verified/blake3-compress.ts";

/** The line (after its indentation) that opens a generated region. */
export const GENERATED_START = "// <generated: rounds — scripts/gen-blake3-compress.ts>";
/** The line (after its indentation) that closes a generated region. */
export const GENERATED_END = "// </generated>";

/** BLAKE3's message permutation: round r + 1 reads word `MSG_PERMUTATION[i]` of round r's order. */
export const MSG_PERMUTATION: readonly number[] = [2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8];

/** Rounds of one compression. */
export const ROUNDS = 7;

/** The state words `[a, b, c, d]` of each round's 8 G mixes: the 4 columns, then the 4 diagonals. */
export const G_STATE: readonly (readonly [number, number, number, number])[] = [
  [0, 4, 8, 12],
  [1, 5, 9, 13],
  [2, 6, 10, 14],
  [3, 7, 11, 15],
  [0, 5, 10, 15],
  [1, 6, 11, 12],
  [2, 7, 8, 13],
  [3, 4, 9, 14],
];

/**
 * The message-word order of each round: round 1 reads m0..m15 in order, and each next round
 * reads the previous round's order permuted by {@link MSG_PERMUTATION}. G mix `i` of a round
 * takes words `order[2i]` and `order[2i + 1]`.
 */
export function messageSchedule(rounds: number = ROUNDS): number[][] {
  const schedule: number[][] = [];
  let order = Array.from({ length: 16 }, (_, i) => i);
  for (let r = 0; r < rounds; r++) {
    schedule.push(order);
    const prev = order;
    order = MSG_PERMUTATION.map((p) => prev[p] as number);
  }
  return schedule;
}

/** A right rotation of the local `v${x}` by `n` bits, as a statement. */
const rotr = (x: number, n: number): string => `v${x} = (v${x} >>> ${n}) | (v${x} << ${32 - n});`;

/** One G mix of state words `a, b, c, d` with message words `mx`, `my` (the locals `m${i}`). */
function renderG(a: number, b: number, c: number, d: number, mx: number, my: number): string[] {
  return [
    `v${a} = (v${a} + v${b} + m${mx}) | 0;`,
    `v${d} ^= v${a};`,
    rotr(d, 16),
    `v${c} = (v${c} + v${d}) | 0;`,
    `v${b} ^= v${c};`,
    rotr(b, 12),
    `v${a} = (v${a} + v${b} + m${my}) | 0;`,
    `v${d} ^= v${a};`,
    rotr(d, 8),
    `v${c} = (v${c} + v${d}) | 0;`,
    `v${b} ^= v${c};`,
    rotr(b, 7),
  ];
}

/**
 * The unrolled rounds as they stand in blake3-compress.ts: for each round a `// round N;`
 * comment (the `;` is what the first, uncommitted generator wrote; kept so the file did not
 * change) and its 8 G mixes, on the state locals `v0..v15` and the message locals `m0..m15`.
 * Every line starts with `indent`; lines are joined by "\n", with no newline at the end.
 */
export function renderRounds(indent: string): string {
  const lines: string[] = [];
  messageSchedule().forEach((order, r) => {
    lines.push(`// round ${r + 1};`);
    G_STATE.forEach(([a, b, c, d], i) => {
      lines.push(...renderG(a, b, c, d, order[2 * i] as number, order[2 * i + 1] as number));
    });
  });
  return lines.map((line) => indent + line).join("\n");
}

/** One marked region of the file. */
export interface GeneratedRegion {
  /** 1-based, in file order. */
  index: number;
  /** The function the region is in (the nearest `function name(` above it), or "?" if none. */
  functionName: string;
  /** 1-based line numbers of the start and end markers. */
  startLine: number;
  endLine: number;
  /** The start marker's indentation: every generated line gets it. */
  indent: string;
  /** The lines strictly between the markers, joined by "\n". */
  body: string;
}

/** Where a region is, for messages: `region 2 (fullChunkCv, lines 835–1515)`. */
export function describeRegion(region: GeneratedRegion): string {
  return `region ${region.index} (${region.functionName}, lines ${region.startLine}–${region.endLine})`;
}

/**
 * The marked regions of `text`: a line that is {@link GENERATED_START} after its indentation
 * opens one, the next line that is {@link GENERATED_END} closes it. Throws on a region not
 * closed, an end marker without a start, or a start marker inside a region.
 */
export function findRegions(text: string): GeneratedRegion[] {
  const lines = text.split("\n");
  const regions: GeneratedRegion[] = [];
  let open: { line: number; indent: string } | undefined;
  lines.forEach((line, i) => {
    const trimmed = line.trim();
    if (trimmed === GENERATED_START) {
      if (open)
        throw new Error(`line ${i + 1}: a start marker inside the region opened on line ${open.line + 1}`);
      open = { line: i, indent: line.slice(0, line.length - line.trimStart().length) };
    } else if (trimmed === GENERATED_END) {
      if (!open) throw new Error(`line ${i + 1}: an end marker without a start marker`);
      regions.push({
        index: regions.length + 1,
        functionName: enclosingFunction(lines, open.line),
        startLine: open.line + 1,
        endLine: i + 1,
        indent: open.indent,
        body: lines.slice(open.line + 1, i).join("\n"),
      });
      open = undefined;
    }
  });
  if (open) throw new Error(`line ${open.line + 1}: a start marker whose region is never closed`);
  return regions;
}

function enclosingFunction(lines: string[], from: number): string {
  for (let i = from; i >= 0; i--) {
    const match = /^\s*(?:export\s+)?function\s+(\w+)/.exec(lines[i] as string);
    if (match) return match[1] as string;
  }
  return "?";
}

/**
 * `text` with the body of every marked region replaced by {@link renderRounds} at the
 * region's indentation; everything outside the markers (and the markers) is kept as is.
 */
export function renderFile(text: string): string {
  const lines = text.split("\n");
  // From the last region back, so earlier line numbers stay valid.
  for (const region of findRegions(text).reverse()) {
    lines.splice(region.startLine, region.endLine - region.startLine - 1, renderRounds(region.indent));
  }
  return lines.join("\n");
}
