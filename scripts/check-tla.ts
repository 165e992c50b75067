/**
 * The TLA+ specifications, syntax-checked (issue 17): `npm run check:tla`; the vitest test in
 * testing/models runs it too.
 *
 * TLC and Apalache cannot be installed on the machines this project builds on, so the specs
 * under specs/tla/ get a syntax gate only: each is parsed with tree-sitter and the TLA+
 * grammar, and every ERROR or MISSING node is reported as `file:line:col`. No semantic check
 * (SANY) and no model checking: spin checks the Promela twins in specs/models exhaustively
 * (scripts/check-models.ts). Exit 1 on any problem.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import TlaPlus from "@tlaplus/tree-sitter-tlaplus";
import Parser from "tree-sitter";

export const TLA_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "../specs/tla");

export interface TlaProblem {
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
  kind: "ERROR" | "MISSING";
  /** The offending text (ERROR) or the node the parser had to invent (MISSING). */
  text: string;
}

let parser: Parser | undefined;

function tlaParser(): Parser {
  if (!parser) {
    parser = new Parser();
    parser.setLanguage(TlaPlus);
  }
  return parser;
}

/** Whole units of a module (definitions, declarations, ...), from the grammar itself. */
const UNIT_TYPES = new Set([
  ...((
    TlaPlus.nodeTypeInfo.find((info) => info.type === "_unit" && "subtypes" in info) as
      | { subtypes: { type: string }[] }
      | undefined
  )?.subtypes.map((subtype) => subtype.type) ?? []),
  "extends",
  "header_line",
  "double_line",
  "comment",
  "block_comment",
]);

/**
 * Where to point at for an ERROR node with no error inside it. When the parser could not
 * recover, the ERROR spans the whole module (1:1); its children are then the units that did
 * parse followed by loose tokens, and the first loose token after the header starts the unit
 * that broke.
 */
function errorAnchor(node: Parser.SyntaxNode): Parser.SyntaxNode {
  const children = node.children;
  let start = 0;
  if (children[0]?.type === "single_line") {
    // "---- MODULE name ----" comes as loose tokens too: skip up to its closing dashes.
    start = children.findIndex((child, i) => i > 0 && child.type === "single_line") + 1;
  }
  return children.slice(start).find((child) => !UNIT_TYPES.has(child.type)) ?? node;
}

/** The syntax problems of one TLA+ module's text; empty when it parses cleanly. */
export function checkTlaSource(source: string, file: string): TlaProblem[] {
  // The default 32 KiB input buffer refuses longer strings; give it the whole text.
  const tree = tlaParser().parse(source, undefined, { bufferSize: source.length * 2 + 1024 });
  const problems: TlaProblem[] = [];
  const report = (node: Parser.SyntaxNode, kind: TlaProblem["kind"], text: string): void => {
    const { row, column } = node.startPosition;
    problems.push({ file, line: row + 1, column: column + 1, kind, text });
  };
  const visit = (node: Parser.SyntaxNode): void => {
    if (node.isMissing) return report(node, "MISSING", node.type);
    if (!node.hasError) return;
    const inner = node.children.filter((child) => child.hasError || child.isMissing);
    // The innermost error says the most: report an ERROR only when nothing inside it is one.
    if (node.type === "ERROR" && inner.length === 0) {
      const anchor = errorAnchor(node);
      return report(anchor, "ERROR", anchor.text.slice(0, 60));
    }
    for (const child of inner) visit(child);
  };
  visit(tree.rootNode);
  return problems;
}

export interface TlaFileReport {
  file: string;
  problems: TlaProblem[];
}

/** Every `.tla` file under `dir`, checked; file names relative to the repository. */
export function checkTlaDir(dir = TLA_DIR): TlaFileReport[] {
  const root = resolve(TLA_DIR, "../..");
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((name) => name.endsWith(".tla"))
    .sort()
    .map((name) => {
      const path = join(dir, name);
      const file = relative(root, path);
      return { file, problems: checkTlaSource(readFileSync(path, "utf8"), file) };
    });
}

export function formatProblem(problem: TlaProblem): string {
  const what =
    problem.kind === "MISSING" ? `MISSING ${problem.text}` : `ERROR near ${JSON.stringify(problem.text)}`;
  return `${problem.file}:${problem.line}:${problem.column}: ${what}`;
}

function main(): void {
  const reports = checkTlaDir();
  if (reports.length === 0) {
    console.error(`check-tla: no .tla files under ${TLA_DIR}`);
    process.exitCode = 1;
    return;
  }
  let count = 0;
  for (const report of reports) {
    for (const problem of report.problems) console.error(formatProblem(problem));
    count += report.problems.length;
    console.log(`check-tla: ${report.file}: ${report.problems.length === 0 ? "parses" : "SYNTAX ERRORS"}`);
  }
  console.log("check-tla: syntax only (tree-sitter); TLC/Apalache are not installed here");
  if (count > 0) {
    console.error(`check-tla: ${count} problem(s)`);
    process.exitCode = 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
