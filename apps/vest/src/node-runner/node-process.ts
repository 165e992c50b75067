import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const REPO_ROOT = fileURLToPath(new URL("../../../../", import.meta.url));
const NODE_BIN = "packages/node/src/bin/omnigate.ts";

/** The Vest node, started by us as a child process (its memory and logs are its own). */
export interface VestNodeProcess {
  pid: number;
  oapUrl: string;
  wsUrl: string;
  adminUrl: string;
  /** SIGTERM, wait for the drain (SIGKILL after 15 s). */
  stop(): Promise<void>;
  /** Resolves when the process exits, with its code or signal. */
  exited: Promise<string>;
}

export interface StartNodeProcessOptions {
  configFile: string;
  /** Every line the node prints goes here (JSON log lines and the banner). */
  logFile: string;
  /** More node.js flags, e.g. `--heapsnapshot-signal=SIGUSR2` for a heap snapshot on demand. */
  nodeFlags?: string[];
  /** Working directory of the child (heap snapshots land here). */
  cwd?: string;
  log?: (line: string) => void;
}

/** Starts `omnigate --config <file>` from the sources and waits for its banner. */
export async function startNodeProcess(options: StartNodeProcessOptions): Promise<VestNodeProcess> {
  await mkdir(dirname(options.logFile), { recursive: true });
  const logStream = createWriteStream(options.logFile, { flags: "a" });
  const child = spawn(
    process.execPath,
    [
      ...(options.nodeFlags ?? []),
      "--conditions=source",
      // Resolved here: the child runs in the Vest directory, where `tsx` alone would not resolve.
      "--import",
      import.meta.resolve("tsx"),
      `${REPO_ROOT}${NODE_BIN}`,
      "--config",
      options.configFile,
    ],
    {
      cwd: options.cwd ?? REPO_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, FORCE_COLOR: "0" },
    },
  );
  child.stderr?.pipe(logStream, { end: false });
  const exited = new Promise<string>((resolve) =>
    child.once("exit", (code, signal) => {
      logStream.end();
      resolve(signal ?? String(code));
    }),
  );
  try {
    const urls = await banner(child, logStream, exited);
    return { pid: child.pid as number, ...urls, stop: () => stopChild(child, exited), exited };
  } catch (err) {
    await stopChild(child, exited);
    throw err;
  }
}

function banner(
  child: ChildProcess,
  logStream: NodeJS.WritableStream,
  exited: Promise<string>,
): Promise<{ oapUrl: string; wsUrl: string; adminUrl: string }> {
  return new Promise((resolve, reject) => {
    let oapUrl: string | undefined;
    let wsUrl: string | undefined;
    let done = false;
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    const timer = setTimeout(
      () => reject(new Error("the node did not print its banner within 60 s")),
      60_000,
    );
    void exited.then((how) => {
      if (!done) reject(new Error(`the node exited before it was ready (${how}); see its log`));
    });
    lines.on("line", (line) => {
      logStream.write(`${line}\n`);
      if (done) return;
      oapUrl ??= /OAP\/1 over TLS\s+(oap\+tls:\/\/\S+)/.exec(line)?.[1];
      wsUrl ??= /OAP\/1 over WSS\s+(wss:\/\/\S+)/.exec(line)?.[1];
      const adminUrl = /admin HTTP\s+(http:\/\/[^/\s]+)/.exec(line)?.[1];
      if (oapUrl && wsUrl && adminUrl) {
        done = true;
        clearTimeout(timer);
        resolve({ oapUrl, wsUrl, adminUrl });
      }
    });
  });
}

function stopChild(child: ChildProcess, exited: Promise<string>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const kill = setTimeout(() => child.kill("SIGKILL"), 15_000);
  child.kill("SIGTERM");
  return exited.then(() => clearTimeout(kill));
}
