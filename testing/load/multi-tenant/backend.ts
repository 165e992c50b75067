/** The echo backend example (examples/echo/echo-backend.ts), started as its own process. */
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

export interface Backend {
  url: string;
  caFile: string;
  stop: () => Promise<void>;
  pid: number | undefined;
}

/** Starts the echo backend example as its own process on a free port. */
export async function startBackend(tlsDir: string, port: number): Promise<Backend> {
  const child: ChildProcess = spawn(
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
    { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "inherit"] },
  );
  const stop = (): Promise<void> =>
    child.exitCode !== null || child.signalCode !== null
      ? Promise.resolve()
      : new Promise((resolve) => {
          child.once("exit", () => resolve());
          // Nothing to keep: no drain.
          child.kill("SIGKILL");
        });
  try {
    const { url, caFile } = await backendReady(child);
    return { url, caFile, stop, pid: child.pid };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Resolves with the URL and CA file the backend prints once it listens. */
function backendReady(child: ChildProcess): Promise<{ url: string; caFile: string }> {
  return new Promise<{ url: string; caFile: string }>((resolve, reject) => {
    let url: string | undefined;
    const timer = setTimeout(() => reject(new Error("echo backend did not start within 30 s")), 30_000);
    child.once("exit", (code) => reject(new Error(`echo backend exited before it was ready (code ${code})`)));
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      url ??= /OAP\/1 over TLS\s+(\S+)/.exec(line)?.[1];
      const caFile = /CA file\s+(\S+)/.exec(line)?.[1];
      if (url && caFile) {
        clearTimeout(timer);
        resolve({ url, caFile });
      }
    });
  });
}
