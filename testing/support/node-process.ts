import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { NODE_RUNTIME_FLAGS } from "@omnigate/node";
import { tempDir } from "./temp-dir.js";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** A node running in its own process (the `omnigate` command), so its memory can be measured alone. */
export interface NodeProcess {
  pid: number;
  oapUrl: string;
  /** wss://…/oap of the WebSocket listener. */
  wsUrl: string;
  adminUrl: string;
  caPem: string;
  /** Peak resident set size of the node process so far, in bytes (Linux VmHWM). */
  peakRssBytes(): number;
  /** Kills the process with SIGKILL (a crash: no shutdown runs) and waits for it to exit. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

export interface NodeProcessOptions {
  /** Data dir to use (kept afterwards, e.g. to start again on it); default a fresh one, removed at stop. */
  dataDir?: string;
  /** Called with every line the node prints on stdout (its JSON log lines; raise --log-level to see more). */
  onLine?: (line: string) => void;
}

/** Starts `omnigate` on ephemeral 127.0.0.1 ports with a fresh data dir and the given flags. */
export async function startNodeProcess(
  flags: string[],
  options: NodeProcessOptions = {},
): Promise<NodeProcess> {
  const dir = options.dataDir ? { path: options.dataDir, remove: () => {} } : tempDir("omnigate-proc-");
  const child = spawn(
    process.execPath,
    [
      ...NODE_RUNTIME_FLAGS,
      "--conditions=source",
      "--import",
      "tsx",
      "packages/node/src/bin/omnigate.ts",
      ...[
        "--listen",
        "127.0.0.1:0",
        "--ws-listen",
        "127.0.0.1:0",
        "--admin",
        "127.0.0.1:0",
        "--data-dir",
        dir.path,
        "--log-level",
        "warn",
      ],
      // Capabilities off unless the flags turn them on (a later --auth-mode wins).
      "--auth-mode",
      "off",
      ...flags,
    ],
    { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "inherit"] },
  );
  try {
    const { oapUrl, wsUrl, adminUrl } = await banner(child, options.onLine);
    const pid = child.pid as number;
    return {
      pid,
      oapUrl,
      wsUrl,
      adminUrl,
      caPem: readFileSync(join(dir.path, "tls", "ca.pem"), "utf8"),
      peakRssBytes: () => statusKb(pid, "VmHWM") * 1024,
      kill: () => killChild(child),
      stop: async () => {
        await stopChild(child);
        dir.remove();
      },
    };
  } catch (err) {
    await stopChild(child);
    dir.remove();
    throw err;
  }
}

function banner(
  child: ChildProcess,
  onLine: ((line: string) => void) | undefined,
): Promise<{ oapUrl: string; wsUrl: string; adminUrl: string }> {
  return new Promise((resolve, reject) => {
    let oapUrl: string | undefined;
    let wsUrl: string | undefined;
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    const timer = setTimeout(() => reject(new Error("node did not print its banner within 30 s")), 30_000);
    child.once("exit", (code) => reject(new Error(`node exited before it was ready (code ${code})`)));
    lines.on("line", (line) => {
      onLine?.(line);
      oapUrl ??= /OAP\/1 over TLS\s+(oap\+tls:\/\/\S+)/.exec(line)?.[1];
      wsUrl ??= /OAP\/1 over WSS\s+(wss:\/\/\S+)/.exec(line)?.[1];
      const adminUrl = /admin HTTP\s+(http:\/\/[^/\s]+)/.exec(line)?.[1];
      if (oapUrl && wsUrl && adminUrl) {
        clearTimeout(timer);
        resolve({ oapUrl, wsUrl, adminUrl });
      }
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill("SIGKILL"), 15_000);
    child.once("exit", () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGKILL");
  });
}

function statusKb(pid: number, field: string): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status);
  if (!match) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]);
}
