import { readFileSync } from "node:fs";

/** A fenced code block of a Markdown file, with the `docs-run` directive written just above it. */
export interface CodeBlock {
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** The fence's language (`sh`, `ts`, …); empty when none is given. */
  lang: string;
  code: string;
  /** Why the block is not run, from `<!-- docs-run: skip (why) -->` on the line above the fence. */
  skip?: string;
  /** Where the reader is told to save the block, from `<!-- docs-run: file <path> -->` above the fence. */
  saveAs?: string;
}

const FENCE = /^(\s*)```(\S*)/;
const SKIP = /^<!--\s*docs-run:\s*skip\s*\((.+)\)\s*-->$/;
const SAVE_AS = /^<!--\s*docs-run:\s*file\s+(\S+)\s*-->$/;

/** The fenced code blocks of `file`, in order. */
export function codeBlocks(file: string): CodeBlock[] {
  const lines = readFileSync(file, "utf8").split("\n");
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i] as string);
    if (!open) continue;
    const indent = (open[1] as string).length;
    const body: string[] = [];
    let end = i + 1;
    while (end < lines.length && !/^\s*```\s*$/.test(lines[end] as string)) {
      body.push((lines[end] as string).slice(indent));
      end++;
    }
    const above = lines
      .slice(0, i)
      .reverse()
      .find((l) => l.trim() !== "");
    const skip = above === undefined ? undefined : SKIP.exec(above.trim())?.[1];
    const saveAs = above === undefined ? undefined : SAVE_AS.exec(above.trim())?.[1];
    blocks.push({
      file,
      line: i + 1,
      lang: open[2] as string,
      code: body.join("\n"),
      ...(skip ? { skip } : {}),
      ...(saveAs ? { saveAs } : {}),
    });
    i = end;
  }
  return blocks;
}

/** The commands of a shell block: one a line, comments and blank lines dropped. */
export function shellCommands(block: CodeBlock): string[] {
  return block.code
    .split("\n")
    .map((line) => line.replace(/\s+#.*$/, "").trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
}
