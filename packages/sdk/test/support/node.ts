import { type OmnigateNode, startNode } from "@omnigate/node";
import { tempDir } from "../../../../testing/support/temp-dir.js";
import type { Service } from "../../src/internal.js";

export interface TestNode {
  node: OmnigateNode;
  /** Stops the node and removes its data dir. */
  stop(): Promise<void>;
}

/** Starts a real node on 127.0.0.1 (ports chosen by the OS) with a fresh data dir. */
export async function startTestNode(
  options: { overrides?: Record<string, string | number>; services?: Service[] } = {},
): Promise<TestNode> {
  const dir = tempDir("omnigate-sdk-test-");
  try {
    const node = await startNode({
      // Capabilities are off unless a test asks for them: auth has its own tests (testing/auth).
      overrides: {
        listen: "127.0.0.1:0",
        wsListen: "127.0.0.1:0",
        admin: "127.0.0.1:0",
        dataDir: dir.path,
        authMode: "off",
        ...options.overrides,
      },
      services: options.services ?? [],
      logLevel: "silent",
    });
    return {
      node,
      async stop() {
        try {
          await node.close();
        } finally {
          dir.remove();
        }
      },
    };
  } catch (error) {
    dir.remove();
    throw error;
  }
}

/** Resolves once `check` holds, polling; rejects after `limitMs` (a safety net, not an assertion on speed). */
export async function eventually(check: () => boolean, limitMs = 10_000): Promise<void> {
  const until = Date.now() + limitMs;
  while (!check()) {
    if (Date.now() > until) throw new Error("condition not reached");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
