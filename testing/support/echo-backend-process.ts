import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const READY_TIMEOUT_MS = 30_000;

/** The echo backend example running in its own process, ready for requests. */
export interface SpawnedEchoBackend {
  child: ChildProcess;
  /** oap+tls:// URL it serves on. */
  url: string;
  /** Its dev CA, which a node routing to it must trust. */
  caFile: string;
}

/**
 * Starts `examples/echo/echo-backend.ts` as a user runs it, with its TLS material in `tlsDir`
 * (made on the first start, reused afterwards, so a node keeps trusting it across restarts)
 * on `port` (0: any), and waits for the lines that say where it serves and which CA it uses.
 * Its stderr is kept for the error when it exits before it is ready; on failure it is killed.
 */
export function spawnEchoBackend(tlsDir: string, port = 0): Promise<SpawnedEchoBackend> {
  const child = spawn(
    process.execPath,
    [
      "--conditions=source",
      "--import",
      "tsx",
      "examples/echo/echo-backend.ts",
      "--port",
      String(port),
      "--tls-dir",
      tlsDir,
    ],
    { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] },
  );
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2_000);
  });
  return new Promise((resolve, reject) => {
    let url: string | undefined;
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.off("exit", onExit);
      lines.close();
      child.kill("SIGKILL");
      reject(error);
    };
    const timer = setTimeout(
      () =>
        fail(new Error(`echo backend was not ready within ${READY_TIMEOUT_MS / 1000} s: ${stderr.trim()}`)),
      READY_TIMEOUT_MS,
    );
    const onExit = (code: number | null) =>
      fail(new Error(`echo backend exited before it was ready (code ${code}): ${stderr.trim()}`));
    child.once("exit", onExit);
    lines.on("line", (line) => {
      url ??= /OAP\/1 over TLS\s+(\S+)/.exec(line)?.[1];
      const caFile = /CA file\s+(\S+)/.exec(line)?.[1];
      if (url && caFile) {
        clearTimeout(timer);
        child.off("exit", onExit);
        resolve({ child, url, caFile });
      }
    });
  });
}
