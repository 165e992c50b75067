import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

/** The repo root: children run from it so `--import tsx` and the `source` condition resolve. */
export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

const live = new Set<ChildProcess>();
let stoppingOnSignal = false;

/** True once Ctrl-C / SIGTERM started the shutdown: failures after it are expected. */
export function interrupted(): boolean {
  return stoppingOnSignal;
}

export interface SpawnOptions<T> {
  /** Label for forwarded output and errors. */
  name: string;
  /** Script path relative to the repo root, run through tsx from its TypeScript source. */
  script: string;
  args: string[];
  /** Extra node flags, e.g. --cpu-prof. */
  nodeFlags?: string[];
  /** Fed each stdout line until it returns a value: that is the child's "ready" report. */
  ready(line: string): T | undefined;
  /** Which stdout lines after ready are worth forwarding (default: all non-blank). */
  forward?(line: string): boolean;
  timeoutMs?: number;
}

/**
 * Starts a TypeScript entry point in its own node process and waits for it to report ready on
 * stdout. Servers run in children so that, on a 2-core machine, the server and the load
 * generator each get a core instead of sharing one event loop. After ready, the child's stdout
 * is forwarded to our stderr: our stdout carries only result lines.
 */
export function spawnChild<T>(options: SpawnOptions<T>): Promise<{ child: ChildProcess; ready: T }> {
  const flags = ["--conditions=source", "--import", "tsx", ...(options.nodeFlags ?? [])];
  const child = spawn(process.execPath, [...flags, options.script, ...options.args], {
    cwd: REPO_ROOT,
    stdio: ["ignore", "pipe", "inherit"],
  });
  live.add(child);
  child.once("exit", () => live.delete(child));

  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    let done = false;
    const timer = setTimeout(
      () =>
        settle(new Error(`${options.name} did not report ready within ${options.timeoutMs ?? 30_000} ms`)),
      options.timeoutMs ?? 30_000,
    );
    const onExit = (code: number | null, signal: string | null) =>
      settle(new Error(`${options.name} exited before it was ready (code ${code}, signal ${signal})`));
    const settle = (error: Error | undefined, value?: T) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      child.off("exit", onExit);
      if (error) reject(error);
      else resolve({ child, ready: value as T });
    };
    child.once("exit", onExit);
    child.once("error", (error) => settle(error));
    lines.on("line", (line) => {
      if (done) {
        const wanted = options.forward ? options.forward(line) : line.trim() !== "";
        if (wanted) process.stderr.write(`[${options.name}] ${line}\n`);
        return;
      }
      const value = options.ready(line);
      if (value !== undefined) settle(undefined, value);
    });
  });
}

/** Asks every child to stop (SIGTERM, so profiles get written), killing any that lingers. */
export async function stopChildren(graceMs = 5_000): Promise<void> {
  await Promise.all(
    [...live].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
          child.once("exit", () => {
            clearTimeout(timer);
            resolve();
          });
          child.kill("SIGTERM");
        }),
    ),
  );
}

/**
 * No child outlives the run: on Ctrl-C / SIGTERM they are stopped before we exit, and the
 * synchronous `exit` hook catches every other way out (errors, process.exit).
 */
export function installChildCleanup(onExit: () => void): void {
  process.once("exit", () => {
    for (const child of live) child.kill("SIGTERM");
    onExit();
  });
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      stoppingOnSignal = true;
      process.stderr.write(`\n${signal}: stopping servers\n`);
      stopChildren(2_000).finally(() => process.exit(130));
    });
  }
}
