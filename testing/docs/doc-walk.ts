import { type ChildProcess, spawn } from "node:child_process";

/** What a command printed and how it ended. */
export interface CommandResult {
  command: string;
  code: number | null;
  output: string;
}

/**
 * Commands that keep running (a user starts them in a terminal of their own): the walk
 * starts them in the background, waits for the line that says they are ready, and stops
 * them at the end, or when the same kind is started again (as a user would press Ctrl-C).
 */
const SERVERS = [
  { kind: "node", command: /^npm start(\s|$)/, ready: /is serving/ },
  { kind: "echo-backend", command: /^npm run example:echo-backend(\s|$)/, ready: /is serving/ },
  { kind: "tileserver", command: /^npm run example:tileserver(\s|$)/, ready: /^tileserver: http/m },
  { kind: "vest", command: /^npm run vest(\s|$)/, ready: /^Vest is running: open http/m },
] as const;

/** `npm ci` is what set up the checkout the walk runs in; running it again would pull node_modules from under the tests. */
const INSTALLED = /^npm ci\s*&&\s*/;

interface RunningServer {
  kind: string;
  command: string;
  child: ChildProcess;
  output: () => string;
}

/**
 * Runs documented shell commands from the repository root, as a new user would type them,
 * with one environment for all of them.
 */
export class DocWalk {
  private readonly servers = new Map<string, RunningServer>();

  constructor(
    private readonly options: {
      repo: string;
      env: NodeJS.ProcessEnv;
      /** Bound on one foreground command, and on a server becoming ready. */
      timeoutMs: number;
      say?: (line: string) => void;
    },
  ) {}

  /** Runs one command: a server in the background until it is ready, anything else to its end. */
  async run(written: string): Promise<CommandResult> {
    const command = written.replace(INSTALLED, "");
    if (command !== written) this.say("  (npm ci: already done for this checkout)");
    const server = SERVERS.find((s) => s.command.test(command));
    if (server) return this.startServer(server.kind, command, server.ready);
    this.say(`$ ${command}`);
    const child = this.spawn(command);
    let output = "";
    child.stdout?.on("data", (chunk: Buffer) => (output += chunk));
    child.stderr?.on("data", (chunk: Buffer) => (output += chunk));
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => {
        output += `\n[docs-run: still running after ${this.options.timeoutMs} ms; stopped]`;
        killGroup(child, "SIGKILL");
      }, this.options.timeoutMs);
      child.on("exit", (exitCode) => {
        clearTimeout(timer);
        resolve(exitCode);
      });
    });
    return { command, code, output };
  }

  /** Stops every server the walk started, newest first. */
  async stop(): Promise<void> {
    for (const kind of [...this.servers.keys()].reverse()) await this.stopServer(kind);
  }

  private async startServer(kind: string, command: string, ready: RegExp): Promise<CommandResult> {
    if (this.servers.has(kind)) await this.stopServer(kind);
    this.say(`$ ${command} &`);
    const child = this.spawn(command);
    let output = "";
    const running: RunningServer = { kind, command, child, output: () => output };
    this.servers.set(kind, running);
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => {
        output += `\n[docs-run: not ready after ${this.options.timeoutMs} ms]`;
        resolve(-1);
      }, this.options.timeoutMs);
      const onData = (chunk: Buffer) => {
        output += chunk;
        if (ready.test(output)) {
          clearTimeout(timer);
          resolve(0);
        }
      };
      child.stdout?.on("data", onData);
      child.stderr?.on("data", onData);
      child.on("exit", (exitCode) => {
        clearTimeout(timer);
        this.servers.delete(kind);
        resolve(exitCode ?? -1);
      });
    });
    return { command, code, output };
  }

  private async stopServer(kind: string): Promise<void> {
    const server = this.servers.get(kind);
    if (!server) return;
    this.servers.delete(kind);
    if (server.child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => server.child.once("exit", () => resolve()));
    killGroup(server.child, "SIGINT");
    const forced = setTimeout(() => killGroup(server.child, "SIGKILL"), 10_000);
    await exited;
    clearTimeout(forced);
  }

  private spawn(command: string): ChildProcess {
    // A process group of its own, so stopping it stops npm and the node it started.
    return spawn("bash", ["-c", command], {
      cwd: this.options.repo,
      env: this.options.env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
  }

  private say(line: string): void {
    this.options.say?.(line);
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}
