import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, open } from "node:fs/promises";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { NODE_RUNTIME_FLAGS } from "@omnigate/node";
import { readBanner } from "./node-banner.js";

const REPO_ROOT = fileURLToPath(new URL("../../../../", import.meta.url));
const NODE_BIN = "packages/node/src/bin/omnigate.ts";
const PARENT_WATCH = new URL("./parent-watch.ts", import.meta.url).href;

/** Our node children still running: the exit hook stops them with us. */
const running = new Set<ChildProcess>();
let exitHookInstalled = false;

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
}

/**
 * Starts `omnigate --config <file>` from the sources and waits for its banner. The node
 * writes straight into its log file rather than through a pipe to us: it may outlive us by
 * a drain, and its logger would spin forever on a pipe nobody reads (EPIPE, retried).
 */
export async function startNodeProcess(options: StartNodeProcessOptions): Promise<VestNodeProcess> {
  await mkdir(dirname(options.logFile), { recursive: true });
  const log = await open(options.logFile, "a");
  let child: ChildProcess;
  let from: number;
  try {
    from = (await log.stat()).size;
    child = spawn(
      process.execPath,
      [
        ...NODE_RUNTIME_FLAGS,
        ...(options.nodeFlags ?? []),
        "--conditions=source",
        // Resolved here: the child runs in the Vest directory, where `tsx` alone would not resolve.
        "--import",
        import.meta.resolve("tsx"),
        "--import",
        PARENT_WATCH,
        `${REPO_ROOT}${NODE_BIN}`,
        "--config",
        options.configFile,
      ],
      {
        cwd: options.cwd ?? REPO_ROOT,
        // stdin: a pipe never written to, closed by the kernel when we die (parent-watch.ts).
        stdio: ["pipe", log.fd, log.fd],
        env: { ...process.env, FORCE_COLOR: "0" },
      },
    );
  } finally {
    // The child holds its own copy of the descriptor.
    await log.close();
  }
  child.stdin?.on("error", () => {});
  const exited = new Promise<string>((resolve) =>
    child.once("exit", (code, signal) => resolve(signal ?? String(code))),
  );
  stopWithUs(child);
  try {
    const urls = await readBanner(options.logFile, from, exited);
    return { pid: child.pid as number, ...urls, stop: () => stopChild(child, exited), exited };
  } catch (err) {
    await stopChild(child, exited);
    throw err;
  }
}

/**
 * The node must not outlive the Vest process that started it: it would hold Vest's ports
 * and answer the next start with a stale config. On any exit of ours that runs handlers
 * (return, process.exit, an uncaught exception) it gets SIGTERM here; when we die without
 * them (SIGKILL, a signal nobody handles) it sees its stdin close (parent-watch.ts).
 */
function stopWithUs(child: ChildProcess): void {
  running.add(child);
  child.once("exit", () => running.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const node of running) node.kill("SIGTERM");
  });
}

function stopChild(child: ChildProcess, exited: Promise<string>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const kill = setTimeout(() => child.kill("SIGKILL"), 15_000);
  child.kill("SIGTERM");
  return exited.then(() => clearTimeout(kill));
}
