/**
 * The import map, checked (issue 21): `npm run check:imports`, run by `npm test`.
 *
 * Reads every `.ts` source file under `packages/*\/src` and `apps/*\/src` (tests and `.d.ts`
 * left out) and enforces three rules; each violation prints as `file → file` with the rule it
 * breaks, and any violation exits 1.
 *
 *  1. No import cycle between source files (Tarjan's strongly connected components).
 *  2. Packages import each other downwards only (PACKAGE_LAYERS), through the package's
 *     name, never by a relative path into its sources.
 *  3. Inside a package with a row table in LAYERS, a file imports only files of its own entry
 *     (the directory or top-level file it lives in) or of a lower row. Entries on one row are
 *     peers: they may not import each other either. Every file must belong to an entry of
 *     its package's table, so a new directory gets a place on the map when it is made.
 *
 * Type-only edges count, for cycles and layers alike. They cost nothing at run time, but a
 * type is part of what a file means: a lower layer that names a higher layer's type cannot be
 * read or reused without it, and a type-only circle is the same knot a newcomer has to untie
 * (both circles the review found were type-only on one side). Inverting such an edge is
 * always possible (move the type down, or take a small interface), so strictness is cheap.
 * Edges are still classified and reported as runtime or type-only:
 *  - runtime: `import … from`, `export … from`, `import "…"`, `import("…")`, and also
 *    `import { type A } from` (under `verbatimModuleSyntax` it stays as `import {} from`);
 *  - type-only: `import type`, `export type … from`, and `import("…").T` in a type.
 *
 * KNOWN_EXCEPTIONS lists edges allowed on purpose, each with a one-line why; an exception that
 * no longer matches an edge is itself reported, so the list cannot go stale.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import ts from "typescript";

/** Rows of packages, lowest first (by package directory). */
const PACKAGE_LAYERS: string[][] = [
  ["packages/oap", "packages/caps", "packages/dht", "packages/ledger", "packages/blake3-native"],
  ["packages/registry", "packages/sdk"],
  ["packages/node", "packages/ronctl"],
  ["apps/vest"],
];

/**
 * Rows of each package's entries, lowest first. An entry is a directory (`kernel/`) or a
 * top-level file (`node.ts`) under the package's `src/`.
 */
const LAYERS: Record<string, string[][]> = {
  "packages/oap": [
    ["constants.ts", "bytes.ts", "reasons.ts"],
    ["errors.ts"],
    ["frame-types.ts", "corr-id-map.ts", "payload.ts", "split.ts", "zstd-guard.ts", "hello.ts"],
    ["header.ts"],
    // padding.ts: PAD frames and the bucket sizes bursts are padded to (spec §10.1).
    // arena.ts: the writer's reusable encoding buffers.
    ["frame.ts", "padding.ts", "arena.ts"],
    ["decoder.ts", "writer.ts", "message-framing.ts", "error-frame.ts", "stream-table.ts"],
    // The ByteSink that pads, delays and adds cover bursts to what a FrameWriter writes.
    ["shaping-sink.ts"],
    ["index.ts"],
    ["internal.ts"],
  ],
  "packages/sdk": [
    // tracing/: the OpenTelemetry helpers both sides share (spans, traceparent in meta).
    // verified/: the BLAKE3 tree of 64 KiB groups, outboards and the chunk-proof stream.
    ["logger.ts", "blake3-wasm.ts", "tracing/", "verified/"],
    ["blake3-native.ts"],
    ["blake3.ts", "ws-message-sink.ts", "mailbox/"],
    // The client and the server side share the wire codec and the helpers below, never each other.
    ["client/", "server/"],
    ["index.ts", "browser.ts"],
    ["internal.ts"],
  ],
  "packages/node": [
    // privacy/: exact discrete Laplace noise and the privacy-budget ledger (docs/privacy.md).
    // runtime-flags.ts: the Node.js flags every launcher of the node passes.
    ["util/", "fs/", "log.ts", "version.ts", "node-id.ts", "runtime-flags.ts", "tracing/", "privacy/"],
    ["config/", "tls/"],
    ["kernel/"],
    ["metrics/"],
    // The router: the table services are registered in.
    ["gateway/"],
    // The admission chain and its stages; the capability stage is in auth/.
    ["admission/"],
    // ledger/: usage counted per tenant and app, settlement records at epoch close.
    ["auth/", "storage/", "mailbox/", "apps/", "ledger/"],
    // dht/: the node-to-node app, the Kademlia core over OAP/1 and fetch-through for storage.
    ["services/", "dht/"],
    // The admin HTTP port: status, metrics and the capability API over auth's authority.
    ["admin/"],
    // The composition root: builds every part above and wires them together.
    ["node.ts"],
    ["bin/", "index.ts"],
  ],
  "packages/ronctl": [
    ["errors.ts", "version.ts"],
    // Helpers of the commands: token input, admin client, storage progress, which node to reach
    // (flags, environment, contexts); how a failure is printed.
    // rewarder/: verifies settlement records and pays each at most once.
    ["cap/", "storage/", "target/", "report-error.ts", "rewarder/"],
    ["commands/"],
    ["program.ts"],
    ["bin/", "index.ts"],
  ],
  "apps/vest": [
    // Shared by the page and the Node side.
    ["shared/", "crypto/"],
    ["tiles/", "node-runner/", "backend/", "storm/", "web-server/", "web/"],
    ["start-vest.ts"],
    ["cli/"],
  ],
};

/** Edges allowed on purpose: `{ from, to, why }`, paths from the repository root. */
const KNOWN_EXCEPTIONS: Array<{ from: string; to: string; why: string }> = [];

type EdgeKind = "runtime" | "type-only";

interface Edge {
  from: string;
  to: string;
  kind: EdgeKind;
  line: number;
}

interface PackageEdge {
  from: string;
  /** The imported package's directory. */
  toPackage: string;
  specifier: string;
  line: number;
}

const ROOT = resolve(dirname(new URL(import.meta.url).pathname), "..");

function packageDirs(): string[] {
  const dirs: string[] = [];
  for (const top of ["packages", "apps"]) {
    for (const name of readdirSync(join(ROOT, top)).sort()) {
      if (existsSync(join(ROOT, top, name, "package.json"))) dirs.push(`${top}/${name}`);
    }
  }
  return dirs;
}

function sourceFiles(dir: string, out: string[]): void {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) sourceFiles(path, out);
    else if (name.endsWith(".ts") && !name.endsWith(".d.ts") && !name.endsWith(".test.ts")) out.push(path);
  }
}

function rel(path: string): string {
  return relative(ROOT, path).split(sep).join("/");
}

/** Every module specifier of a file, with its kind and line. */
function specifiers(file: string): Array<{ specifier: string; kind: EdgeKind; line: number }> {
  const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
  const found: Array<{ specifier: string; kind: EdgeKind; line: number }> = [];
  const add = (literal: ts.Node, kind: EdgeKind) => {
    if (!ts.isStringLiteral(literal)) return;
    const line = source.getLineAndCharacterOfPosition(literal.getStart(source)).line + 1;
    found.push({ specifier: literal.text, kind, line });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      add(node.moduleSpecifier, node.importClause?.isTypeOnly ? "type-only" : "runtime");
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier) {
      add(node.moduleSpecifier, node.isTypeOnly ? "type-only" : "runtime");
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node.argument.literal, "type-only");
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] !== undefined
    ) {
      add(node.arguments[0], "runtime");
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** The `.ts` file a relative specifier names (`./x.js` → `x.ts`, `./dir` → `dir/index.ts`). */
function resolveRelative(from: string, specifier: string, known: Set<string>): string | undefined {
  const base = resolve(dirname(from), specifier);
  for (const candidate of [base.replace(/\.js$/, ".ts"), `${base}.ts`, join(base, "index.ts")]) {
    if (known.has(candidate)) return candidate;
  }
  return undefined;
}

function packageOf(path: string, packages: string[]): string | undefined {
  return packages.find((p) => path.startsWith(`${p}/`));
}

/** The table entry of a file: its first directory under src/ (`kernel/`) or its file name. */
function entryOf(path: string, pkg: string): string {
  const inside = path.slice(`${pkg}/src/`.length);
  const slash = inside.indexOf("/");
  return slash === -1 ? inside : inside.slice(0, slash + 1);
}

function rowOf(rows: string[][], entry: string): number {
  return rows.findIndex((row) => row.includes(entry));
}

/** Strongly connected components with more than one file, or a file importing itself. */
function cycles(nodes: string[], edges: Edge[]): string[][] {
  const out = new Map<string, string[]>();
  for (const e of edges) out.set(e.from, [...(out.get(e.from) ?? []), e.to]);
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const connect = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of out.get(v) ?? []) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop() as string;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (out.get(v) ?? []).includes(v)) found.push(component.sort());
    }
  };
  for (const v of nodes) if (!index.has(v)) connect(v);
  return found;
}

/** One shortest circle through the component's first file, as the edges that make it. */
function circleIn(component: string[], edges: Edge[]): Edge[] {
  const members = new Set(component);
  const start = component[0] as string;
  const inside = edges.filter((e) => members.has(e.from) && members.has(e.to));
  const via = new Map<string, Edge>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift() as string;
    for (const e of inside.filter((x) => x.from === v)) {
      if (e.to === start) {
        const path = [e];
        for (let at = v; at !== start; ) {
          const step = via.get(at) as Edge;
          path.unshift(step);
          at = step.from;
        }
        return path;
      }
      if (!via.has(e.to)) {
        via.set(e.to, e);
        queue.push(e.to);
      }
    }
  }
  return [];
}

function main(): void {
  const packages = packageDirs();
  const files: string[] = [];
  for (const pkg of packages) sourceFiles(join(ROOT, pkg, "src"), files);
  const known = new Set(files);
  const names = new Map<string, string>();
  for (const pkg of packages) {
    const manifest = JSON.parse(readFileSync(join(ROOT, pkg, "package.json"), "utf8")) as { name: string };
    names.set(manifest.name, pkg);
  }

  const edges: Edge[] = [];
  const packageEdges: PackageEdge[] = [];
  const problems: string[] = [];
  for (const file of files) {
    const from = rel(file);
    for (const { specifier, kind, line } of specifiers(file)) {
      if (specifier.startsWith(".")) {
        const target = resolveRelative(file, specifier, known);
        if (target !== undefined) edges.push({ from, to: rel(target), kind, line });
      } else {
        const name = specifier.split("/").slice(0, 2).join("/");
        const pkg = names.get(name);
        if (pkg !== undefined) packageEdges.push({ from, toPackage: pkg, specifier, line });
      }
    }
  }

  const used = new Set<number>();
  const excepted = (from: string, to: string): boolean => {
    const at = KNOWN_EXCEPTIONS.findIndex((x) => x.from === from && x.to === to);
    if (at !== -1) used.add(at);
    return at !== -1;
  };
  const show = (e: Edge) => `${e.from}:${e.line} → ${e.to} [${e.kind}]`;

  // Rule 2: packages, downwards only and by name.
  const packageRow = (pkg: string) => PACKAGE_LAYERS.findIndex((row) => row.includes(pkg));
  for (const pkg of packages) {
    if (packageRow(pkg) === -1) problems.push(`${pkg}: not in PACKAGE_LAYERS (rule 2: give it a row)`);
  }
  for (const e of packageEdges) {
    const fromPkg = packageOf(e.from, packages) as string;
    if (e.toPackage === fromPkg || excepted(e.from, e.toPackage)) continue;
    if (packageRow(e.toPackage) >= packageRow(fromPkg)) {
      problems.push(
        `${e.from}:${e.line} → ${e.specifier}: rule 2, package ${fromPkg} may not import ${e.toPackage} (same or higher row)`,
      );
    }
  }
  for (const e of edges) {
    const fromPkg = packageOf(e.from, packages);
    const toPkg = packageOf(e.to, packages);
    if (fromPkg !== toPkg && !excepted(e.from, e.to)) {
      problems.push(`${show(e)}: rule 2, reaches into another package's sources; import ${toPkg} by name`);
    }
  }

  // Rule 3: layers inside a package.
  const placed = new Set<string>();
  for (const file of files.map(rel)) {
    const pkg = packageOf(file, packages) as string;
    const rows = LAYERS[pkg];
    if (rows === undefined) continue;
    const entry = entryOf(file, pkg);
    if (rowOf(rows, entry) === -1 && !placed.has(`${pkg}/${entry}`)) {
      placed.add(`${pkg}/${entry}`);
      problems.push(
        `${pkg}/src/${entry}: not in the layer table of ${pkg} (rule 3: give it a row in LAYERS)`,
      );
    }
  }
  for (const e of edges) {
    const pkg = packageOf(e.from, packages) as string;
    const rows = LAYERS[pkg];
    if (rows === undefined || packageOf(e.to, packages) !== pkg) continue;
    const fromEntry = entryOf(e.from, pkg);
    const toEntry = entryOf(e.to, pkg);
    if (fromEntry === toEntry) continue;
    const fromRow = rowOf(rows, fromEntry);
    const toRow = rowOf(rows, toEntry);
    if (fromRow === -1 || toRow === -1 || toRow < fromRow || excepted(e.from, e.to)) continue;
    const why = toRow === fromRow ? "peers on one row" : "a lower layer imports a higher one";
    problems.push(
      `${show(e)}: rule 3, ${why} (${pkg}: ${fromEntry} row ${fromRow}, ${toEntry} row ${toRow})`,
    );
  }

  // Rule 1: no circles, type-only edges included.
  const counted = edges.filter((e) => !excepted(e.from, e.to));
  const circles = cycles(files.map(rel), counted);
  for (const component of circles) {
    const circle = circleIn(component, counted);
    const runtime = cycles(
      component,
      counted.filter((e) => e.kind === "runtime"),
    ).length;
    problems.push(
      `rule 1, import circle of ${component.length} file(s)${runtime > 0 ? " (a runtime circle too)" : " (type-only on at least one side)"}:\n` +
        circle.map((e) => `    ${show(e)}`).join("\n"),
    );
  }

  KNOWN_EXCEPTIONS.forEach((x, i) => {
    if (!used.has(i))
      problems.push(`${x.from} → ${x.to}: KNOWN_EXCEPTIONS entry matches no import; remove it`);
  });

  const typeOnly = edges.filter((e) => e.kind === "type-only").length;
  console.log(
    `check-imports: ${files.length} files, ${edges.length} relative edges (${edges.length - typeOnly} runtime, ${typeOnly} type-only), ${packageEdges.length} package imports, ${KNOWN_EXCEPTIONS.length} known exception(s)`,
  );
  if (problems.length === 0) {
    console.log("check-imports: no circles, no upward imports");
    return;
  }
  for (const p of problems) console.error(p);
  console.error(`check-imports: ${problems.length} problem(s)`);
  process.exitCode = 1;
}

main();
