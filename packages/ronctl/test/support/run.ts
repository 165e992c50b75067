import { spawn } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const BIN = fileURLToPath(new URL("../../src/bin/ronctl.ts", import.meta.url));
/** The repository root: ronctl's default paths (registry/...) are relative to it. */
export const ROOT = fileURLToPath(new URL("../../../../", import.meta.url));

/** Settings ronctl reads from the environment; a test sets the ones it means, never inherits them. */
const RONCTL_ENV = [
  "RON_ADMIN_URL",
  "RON_ADMIN_TOKEN",
  "RON_CAP",
  "OMNIGATE_DATA_DIR",
  "RON_NODE_URL",
  "RON_CA_FILE",
];

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string>;
  /** Written to ronctl's stdin. */
  input?: string;
}

/**
 * Where ronctl looks for contexts and a local node's data dir unless a test says otherwise:
 * paths nothing creates, so the user's own contexts and node never leak into a test.
 */
const NOTHING_THERE = join(tmpdir(), "omnigate-ronctl-test-nothing-here");
const HERMETIC_DEFAULTS = { XDG_CONFIG_HOME: NOTHING_THERE, OMNIGATE_DATA_DIR: NOTHING_THERE };

/** Runs the real `ronctl` as a child process from the repository root. */
export function ronctl(args: string[], options: RunOptions = {}): Promise<RunResult> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of RONCTL_ENV) delete env[name];
  Object.assign(env, HERMETIC_DEFAULTS, options.env);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--conditions=source", "--import", "tsx", BIN, ...args], {
      cwd: ROOT,
      env,
      stdio: ["pipe", "pipe", "pipe"],
    });
    // stdin is closed at once, empty unless the test gives input: ronctl never waits on it.
    child.stdin.end(options.input);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}
