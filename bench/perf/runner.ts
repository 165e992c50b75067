/**
 * Runs one benchmark as a child process, the way its `npm run bench:*` script does, and
 * collects the JSON lines it prints on stdout. Its stderr (progress, and its own children's
 * output) is passed through line by line with the bench's name as a prefix.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { BenchSpec } from "./benches.js";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** The bench children running now, so a signal to the rig can stop them (see stopBenches). */
const running = new Set<ChildProcess>();

export type BenchLine = Record<string, unknown>;

export interface BenchRun {
  name: string;
  args: readonly string[];
  lines: BenchLine[];
  /** The child's exit code (null when a signal ended it). */
  exitCode: number | null;
  seconds: number;
}

export interface RunOptions {
  short: boolean;
  /** Called with each JSON line as it arrives, so the rig can stream it out. */
  onLine?(line: BenchLine): void;
  /** Where the prefixed progress goes (default: our stderr). */
  log?(text: string): void;
}

export async function runBench(spec: BenchSpec, options: RunOptions): Promise<BenchRun> {
  const args = options.short ? spec.short : spec.full;
  const log = options.log ?? ((text: string) => process.stderr.write(text));
  const started = performance.now();
  // The environment is passed on as is: that is how the gate test plants its slowdown
  // (BENCH_OAP_NODE_IMPORT, read by bench/support/servers.ts).
  const flags = ["--conditions=source", "--import", "tsx", ...(spec.nodeFlags ?? [])];
  const child = spawn(process.execPath, [...flags, spec.script, ...args], {
    cwd: REPO_ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  child.once("exit", () => running.delete(child));
  const lines: BenchLine[] = [];
  createInterface({ input: child.stdout }).on("line", (text) => {
    const line = parseJsonLine(text);
    if (line) {
      lines.push(line);
      options.onLine?.(line);
    } else if (text.trim() !== "") {
      log(`[${spec.name}] (stdout) ${text}\n`);
    }
  });
  createInterface({ input: child.stderr }).on("line", (text) => log(`[${spec.name}] ${text}\n`));
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve(code));
  });
  return { name: spec.name, args, lines, exitCode, seconds: (performance.now() - started) / 1000 };
}

function parseJsonLine(text: string): BenchLine | undefined {
  if (!text.startsWith("{")) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as BenchLine)
      : undefined;
  } catch {
    return undefined;
  }
}

/** SIGTERM to every bench child still running: each stops its own servers on SIGTERM. */
export function stopBenches(): void {
  for (const child of running) child.kill("SIGTERM");
}
