import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { Redis } from "ioredis";
import { freePort } from "./free-port.js";

export const REDIS_SERVER = "/usr/bin/redis-server";

/** A throwaway redis-server on 127.0.0.1 (no persistence), stopped by `stop()`. */
export interface RedisProcess {
  url: string;
  port: number;
  /** SIGSTOP: connections stay open and nothing is answered, like a server hung or cut off. */
  pause(): void;
  /** SIGCONT: the server answers again, starting with what was sent while it was paused. */
  resume(): void;
  stop(): Promise<void>;
}

export async function startRedis(): Promise<RedisProcess> {
  if (!existsSync(REDIS_SERVER)) {
    throw new Error(`${REDIS_SERVER} is missing: install Debian's redis-server (.ci/run does)`);
  }
  const port = await freePort();
  const child = spawn(
    REDIS_SERVER,
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    { stdio: "ignore" },
  );
  const url = `redis://127.0.0.1:${port}`;
  try {
    await waitForPing(url, child);
  } catch (err) {
    await stopChild(child);
    throw err;
  }
  return {
    url,
    port,
    pause: () => child.kill("SIGSTOP"),
    resume: () => child.kill("SIGCONT"),
    stop: () => stopChild(child),
  };
}

async function waitForPing(url: string, child: ChildProcess): Promise<void> {
  const until = Date.now() + 10_000;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode}`);
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on("error", () => {});
    try {
      await probe.connect();
      if ((await probe.ping()) === "PONG") return;
    } catch {
      // not listening yet
    } finally {
      probe.disconnect();
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("redis-server did not answer PING within 10 s");
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGCONT"); // a paused server would hold the SIGTERM
    child.kill("SIGTERM");
  });
}
