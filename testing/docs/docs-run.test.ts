/**
 * The docs, run as written: a new user's walk from a fresh data dir through every shell
 * command of the README, docs/quickstart.md and each example's README (servers in the
 * background, as in a terminal of their own), with no RON_* or OMNIGATE_* variable set; then
 * the TypeScript of the README and the SDK guide, each doc's blocks in order as one program,
 * against a node started the documented way. A block that cannot run as written says why in
 * a `<!-- docs-run: skip (why) -->` line above it, and the walk prints each skip.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../support/temp-dir.js";
import { DocWalk } from "./doc-walk.js";
import { type CodeBlock, codeBlocks, shellCommands } from "./markdown-blocks.js";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const WALKED = [
  "README.md",
  "docs/quickstart.md",
  "examples/echo/README.md",
  "examples/tileserver/README.md",
];
const PROGRAMS = ["README.md", "docs/sdk.md"];
/** The documented defaults the walk's servers take: node OAP/WSS/admin, echo backend, tile server, Vest. */
const DEFAULT_PORTS = [9443, 9444, 9600, 9701, 8080, 9543, 9544, 9640, 9711, 8090];
const PLAYGROUND = join(REPO, "playground");

let home: { path: string; remove: () => void };
let walk: DocWalk;
let playgroundBefore: Set<string>;
const say = (line: string) => process.stderr.write(`docs-run: ${line}\n`);

beforeAll(async () => {
  for (const port of DEFAULT_PORTS) {
    if (!(await portFree(port))) {
      throw new Error(
        `the docs use port ${port} on 127.0.0.1, and it is taken (a node from npm start?): free it`,
      );
    }
  }
  home = tempDir("docs-run-");
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) if (/^(RON_|OMNIGATE_)/.test(name)) delete env[name];
  // A fresh per-user data and config dir, as on a new machine (Linux's defaults follow these).
  env.XDG_DATA_HOME = join(home.path, "data");
  env.XDG_CONFIG_HOME = join(home.path, "config");
  playgroundBefore = new Set(listFiles(PLAYGROUND));
  walk = new DocWalk({ repo: REPO, env, timeoutMs: 180_000, say });
});

afterAll(async () => {
  await walk?.stop();
  // Only what the walk saved: a developer's own playground files stay.
  for (const file of listFiles(PLAYGROUND)) if (!playgroundBefore.has(file)) rmSync(file);
  home?.remove();
});

describe("the docs, run as written", () => {
  it("walks every command of the README, the quick start and the examples' READMEs", async () => {
    for (const doc of WALKED) {
      for (const block of codeBlocks(join(REPO, doc))) {
        const where = `${doc}:${block.line}`;
        if (block.skip) {
          say(`${where}: skipped (${block.skip})`);
          continue;
        }
        if (block.saveAs) {
          save(block.saveAs, block.code);
          say(`${where}: saved ${block.saveAs}`);
          continue;
        }
        if (block.lang !== "sh") continue;
        for (const command of shellCommands(block)) {
          const result = await walk.run(command);
          expect(result.code, `${where}: ${command}\n${result.output}`).toBe(0);
        }
      }
    }
  }, 900_000);

  it("runs the TypeScript of the README and the SDK guide against the node", async () => {
    const started = await walk.run("npm start");
    expect(started.code, started.output).toBe(0);
    for (const doc of PROGRAMS) {
      const blocks = codeBlocks(join(REPO, doc)).filter((b) => b.lang === "ts" && !b.saveAs);
      for (const block of blocks.filter((b) => b.skip)) say(`${doc}:${block.line}: skipped (${block.skip})`);
      const program = asProgram(blocks.filter((b) => !b.skip));
      const file = `playground/docs-run-${doc.replace(/[/.]/g, "-")}.ts`;
      save(file, program);
      const result = await walk.run(`npx tsx ${file}`);
      expect(result.code, `${doc}: its TypeScript blocks, run in order as ${file}\n${result.output}`).toBe(0);
    }
  }, 300_000);
});

/** A doc's blocks in order as one module, each marked with where it comes from. */
function asProgram(blocks: CodeBlock[]): string {
  return blocks.map((b) => `// ${b.file.slice(REPO.length)}:${b.line}\n${b.code}\n`).join("\n");
}

function save(path: string, text: string): void {
  const file = join(REPO, path);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text.endsWith("\n") ? text : `${text}\n`);
}

function listFiles(dir: string): string[] {
  try {
    return readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name));
  } catch {
    return [];
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}
