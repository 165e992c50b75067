/** The echo backend example (examples/echo/echo-backend.ts), started as its own process. */
import { spawnEchoBackend } from "../../support/echo-backend-process.js";

export interface Backend {
  url: string;
  caFile: string;
  stop: () => Promise<void>;
  pid: number | undefined;
}

/** Starts the echo backend example as its own process on `port`. */
export async function startBackend(tlsDir: string, port: number): Promise<Backend> {
  const { child, url, caFile } = await spawnEchoBackend(tlsDir, port);
  const stop = (): Promise<void> =>
    child.exitCode !== null || child.signalCode !== null
      ? Promise.resolve()
      : new Promise((resolve) => {
          child.once("exit", () => resolve());
          // Nothing to keep: no drain.
          child.kill("SIGKILL");
        });
  return { url, caFile, stop, pid: child.pid };
}
