import { type OmnigateNode, type StartOptions, startNode } from "../../packages/node/src/index.js";
import { RawOapConnection } from "./raw-oap.js";
import { RawWssConnection } from "./raw-wss.js";
import { tempDir } from "./temp-dir.js";

/**
 * What one test started — nodes on 127.0.0.1 with fresh data dirs, raw connections, anything
 * deferred — and its teardown in reverse order. Call `close()` in afterEach.
 */
export class TestScope {
  private readonly cleanups: Array<() => unknown> = [];

  defer(cleanup: () => unknown): void {
    this.cleanups.push(cleanup);
  }

  async node(
    overrides: StartOptions["overrides"] = {},
    extra: Partial<StartOptions> = {},
  ): Promise<OmnigateNode> {
    const dir = tempDir();
    this.defer(dir.remove);
    const node = await startNode({
      // Capabilities are off unless a test asks for them: auth has its own tests (testing/auth).
      overrides: {
        listen: "127.0.0.1:0",
        wsListen: "127.0.0.1:0",
        admin: "127.0.0.1:0",
        dataDir: dir.path,
        authMode: "off",
        ...overrides,
      },
      logLevel: "silent",
      ...extra,
    });
    this.defer(() => node.close());
    return node;
  }

  async raw(node: OmnigateNode): Promise<RawOapConnection> {
    const conn = await RawOapConnection.open(node.oapUrl, node.caPem);
    this.defer(() => conn.close());
    return conn;
  }

  /** A raw connection to the node's WebSocket listener (wss://…/oap). */
  async rawWss(node: OmnigateNode): Promise<RawWssConnection> {
    if (!node.wsUrl) throw new Error("the node has no WebSocket listener (ws.listen is empty)");
    const conn = await RawWssConnection.open(node.wsUrl, node.caPem);
    this.defer(() => conn.close());
    return conn;
  }

  async close(): Promise<void> {
    for (const cleanup of this.cleanups.splice(0).reverse()) await cleanup();
  }
}
