import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, readFileSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { delimiter, dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

/** The repository root: where a user runs `npm run …`, and the working directory of every command here. */
export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/**
 * A root package.json script as `npm run <name> -- <args>` runs it: its command line through
 * `sh -c` in the repository root, the arguments appended, `node_modules/.bin` on the PATH.
 * A leading `tsc -b && ` is left out: the examples run from the TypeScript sources
 * (`--conditions=source`), the build writes only ignored `dist/` and `*.tsbuildinfo`, and
 * `npm test` has built already — inside the test it would only add time, and fail the test
 * whenever any file in the tree does not type-check (not what this test is about).
 */
export function npmScript(name: string, args: string[], env: NodeJS.ProcessEnv): Command {
  const scripts = (JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as PackageJson).scripts;
  const script = scripts?.[name];
  if (!script) throw new Error(`package.json has no script ${name}`);
  return {
    command: "sh",
    args: ["-c", `${script.replace(/^tsc -b && /, "")} "$@"`, name, ...args],
    env: { ...env, PATH: `${join(REPO_ROOT, "node_modules", ".bin")}${delimiter}${env.PATH ?? ""}` },
    label: `npm run ${name}${args.length ? ` -- ${args.join(" ")}` : ""}`,
  };
}

interface PackageJson {
  scripts?: Record<string, string>;
}

export interface Command {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  /** What a user would type, for messages. */
  label: string;
}

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command in the repository root to its end (killed after `timeoutMs`); a non-zero
 * exit fails with its stderr, which says more than the exit code.
 */
export function run({ command, args, env, label }: Command, timeoutMs = 20_000): Promise<Finished> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { cwd: REPO_ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("error", fail);
    child.once("close", (code) => {
      clearTimeout(timer);
      if (code === 0) done({ code, stdout, stderr });
      else fail(new Error(`${label}: exit code ${code}; stderr:\n${stderr}`));
    });
  });
}

export interface Running {
  /** The first stdout match of the pattern given to `start`. */
  match: RegExpExecArray;
  /** SIGTERM to the whole process group (npm, its shell, the script), as Ctrl-C would reach them all. */
  stop(): Promise<void>;
}

/**
 * Starts a long-running command in the repository root, in its own process group, and waits
 * until a stdout line matches `ready`.
 */
export function start(
  { command, args, env, label }: Command,
  ready: RegExp,
  timeoutMs = 20_000,
): Promise<Running> {
  const child = spawn(command, args, {
    cwd: REPO_ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((done, fail) => {
    const timer = setTimeout(() => {
      void stopGroup(child);
      fail(new Error(`${label}: not ready within ${timeoutMs} ms; stderr:\n${stderr}`));
    }, timeoutMs);
    child.once("exit", (code) => {
      clearTimeout(timer);
      fail(new Error(`${label} exited (code ${code}) before it was ready; stderr:\n${stderr}`));
    });
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      const match = ready.exec(line);
      if (!match) return;
      clearTimeout(timer);
      done({ match, stop: () => stopGroup(child) });
    });
  });
}

function stopGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    const kill = setTimeout(() => process.kill(-(child.pid as number), "SIGKILL"), 10_000);
    child.once("exit", () => {
      clearTimeout(kill);
      done();
    });
    process.kill(-(child.pid as number), "SIGTERM");
  });
}

/**
 * `git status --porcelain` lines, untracked files listed one by one (so a new file inside an
 * already-untracked directory shows too). Ignored paths do not appear: writing there is fine.
 */
export function gitStatus(): string[] {
  const out = execFileSync("git", ["status", "--porcelain", "--untracked-files=all"], {
    cwd: REPO_ROOT,
    encoding: "utf8",
  });
  return out.split("\n").filter((line) => line !== "");
}

/**
 * Remembers a file (and which of its directories are missing) and returns how to put it back:
 * a developer's own tile index survives the test, and directories the test made go away.
 */
export function preserveFile(path: string): () => void {
  const absolute = resolve(REPO_ROOT, path);
  const saved = existsSync(absolute) ? readFileSync(absolute) : undefined;
  const missing: string[] = [];
  for (let dir = dirname(absolute); !existsSync(dir); dir = dirname(dir)) missing.push(dir);
  return () => {
    if (saved) writeFileSync(absolute, saved);
    else rmSync(absolute, { force: true });
    for (const dir of missing) {
      try {
        rmdirSync(dir);
      } catch {
        // Not empty: something else lives there now; leave it.
      }
    }
  };
}

/** Remembers whether a path exists and returns how to remove it again if the test made it. */
export function removeIfCreated(path: string): () => void {
  const absolute = resolve(REPO_ROOT, path);
  if (existsSync(absolute)) return () => {};
  return () => rmSync(absolute, { recursive: true, force: true });
}
