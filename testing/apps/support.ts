import type { ChildProcess } from "node:child_process";
import { type AppInput, loadTlsMaterial, type OmnigateNode } from "../../packages/node/src/index.js";
import {
  type AppHandler,
  type AppServer,
  type ConnectOptions,
  connect,
  type OapClient,
  type ServeOptions,
  serve,
} from "../../packages/sdk/src/index.js";
import { spawnEchoBackend } from "../support/echo-backend-process.js";
import type { TestScope } from "../support/scope.js";
import { tempDir } from "../support/temp-dir.js";

export interface BackendTls {
  cert: string;
  key: string;
  caFile: string;
}

/** A dev CA and a certificate for 127.0.0.1 in a fresh directory, as a backend would have. */
export async function backendTls(scope: TestScope): Promise<BackendTls> {
  const dir = tempDir("omnigate-backend-");
  scope.defer(dir.remove);
  const tls = await loadTlsMaterial({ dataDir: dir.path, cert: "", key: "" });
  return { cert: tls.cert, key: tls.key, caFile: tls.caFile as string };
}

/** An in-process app backend on serve(), stopped with the scope. */
export async function startBackend(
  scope: TestScope,
  tls: BackendTls,
  handler: AppHandler,
  options: Partial<ServeOptions> = {},
): Promise<AppServer> {
  const server = await serve({ appId: 0x1001, tls, handler, ...options });
  scope.defer(() => server.close(0));
  return server;
}

/** A node routing the given apps (backends trusted through their CA file). */
export function routingNode(scope: TestScope, apps: AppInput[], overrides = {}): Promise<OmnigateNode> {
  return scope.node(overrides, { apps });
}

export async function clientOf(
  scope: TestScope,
  node: OmnigateNode,
  options: ConnectOptions = {},
): Promise<OapClient> {
  const client = await connect(node.oapUrl, { ca: node.caPem, ...options });
  scope.defer(() => client.close());
  return client;
}

/** The echo backend example (`examples/echo/echo-backend.ts`) as its own process, like a user runs it. */
export class EchoBackendProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
    readonly caFile: string,
  ) {}

  get port(): number {
    return Number(new URL(this.url.replace(/^oap\+tls:/, "https:")).port);
  }

  /** Starts it with its TLS material in `tlsDir` (reused across restarts) on `port` (0: any). */
  static async start(scope: TestScope, tlsDir: string, port = 0): Promise<EchoBackendProcess> {
    const { child, url, caFile } = await spawnEchoBackend(tlsDir, port);
    scope.defer(() => stopChild(child));
    return new EchoBackendProcess(child, url, caFile);
  }

  /** What a crash looks like: SIGKILL, no drain. Resolves once the process is gone. */
  kill(): Promise<void> {
    return stopChild(this.child, "SIGKILL");
  }
}

function stopChild(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill(signal);
  });
}

/** Byte i of the echo backend's `generate_bytes` replies. */
export function generatedByte(i: number): number {
  return i % 251;
}
