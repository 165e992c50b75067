/**
 * The processes a soak run owns besides the node: a redis-server and the echo app backend
 * (examples/echo/echo-backend.ts). Each keeps its port across restarts, so the node finds it
 * again, and can be crashed with SIGKILL and started again.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { Redis } from "ioredis";
import { spawnEchoBackend } from "../support/echo-backend-process.js";
import { REDIS_SERVER } from "../support/redis-server.js";

/** A dependency the harness can crash (SIGKILL) and start again on the same port. */
export interface Restartable {
  readonly name: string;
  /** The current process id (undefined while it is down). */
  readonly pid: number | undefined;
  start(): Promise<void>;
  /** SIGKILL, then wait for the exit. */
  crash(): Promise<void>;
  /** SIGTERM, then wait for the exit (SIGKILL after 5 s). */
  stop(): Promise<void>;
}

abstract class ChildService implements Restartable {
  protected child: ChildProcess | undefined;
  abstract readonly name: string;
  get pid(): number | undefined {
    return this.child?.pid;
  }
  abstract start(): Promise<void>;
  crash(): Promise<void> {
    return this.end("SIGKILL");
  }
  stop(): Promise<void> {
    return this.end("SIGTERM");
  }
  private end(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      const force = setTimeout(() => child.kill("SIGKILL"), 5_000);
      child.once("exit", () => {
        clearTimeout(force);
        resolve();
      });
      child.kill(signal);
    });
  }
}

/** redis-server on a fixed 127.0.0.1 port, no persistence: a crash loses what it held. */
export class RedisService extends ChildService {
  readonly name = "redis";
  constructor(readonly port: number) {
    super();
  }
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }
  async start(): Promise<void> {
    if (!existsSync(REDIS_SERVER)) throw new Error(`${REDIS_SERVER} is missing: install redis-server`);
    const child = spawn(
      REDIS_SERVER,
      ["--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
      { stdio: "ignore" },
    );
    this.child = child;
    const until = Date.now() + 10_000;
    while (Date.now() < until) {
      if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode}`);
      if (await ping(this.url)) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`redis-server on port ${this.port} did not answer PING within 10 s`);
  }
}

async function ping(url: string): Promise<boolean> {
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on("error", () => {});
  try {
    await probe.connect();
    return (await probe.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

/**
 * The echo app backend (app 0x1001) in its own process, on a fixed port, with its dev CA in
 * `tlsDir` (made on the first start, reused afterwards, so the node keeps trusting it).
 */
export class BackendService extends ChildService {
  readonly name = "backend";
  constructor(
    readonly port: number,
    readonly tlsDir: string,
  ) {
    super();
  }
  get caFile(): string {
    return `${this.tlsDir}/tls/ca.pem`;
  }
  async start(): Promise<void> {
    this.child = (await spawnEchoBackend(this.tlsDir, this.port)).child;
  }
}
