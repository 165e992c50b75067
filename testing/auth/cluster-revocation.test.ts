import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { connect, OapRequestError } from "@omnigate/sdk";
import { afterEach, describe, expect, it } from "vitest";
import type { OmnigateNode } from "../../packages/node/src/index.js";
import { startRedis } from "../support/redis-server.js";
import { TestScope } from "../support/scope.js";
import { tempDir } from "../support/temp-dir.js";

const TENANT = 0x99n;
const scope = new TestScope();
afterEach(() => scope.close());

async function echo(node: OmnigateNode, token: string): Promise<string> {
  const client = await connect(node.oapUrl, {
    ca: node.caPem as string,
    servername: "localhost",
    tenant: TENANT,
  });
  try {
    return String((await client.request(0x0101, { body: "x", cap: Buffer.from(token, "base64url") })).code);
  } catch (err) {
    if (err instanceof OapRequestError) return `${err.code} ${err.reason}`;
    throw err;
  } finally {
    await client.close();
  }
}

describe("revocation across nodes", () => {
  it("a token revoked on node A is refused on node B within 2 s, through a shared Redis", async () => {
    const redis = await startRedis();
    scope.defer(() => redis.stop());
    const a = await scope.node({ authMode: "on", authRedisUrl: redis.url });
    // Nodes of one cluster share the root key file: node B starts with a copy of A's.
    const dirB = tempDir();
    scope.defer(dirB.remove);
    mkdirSync(join(dirB.path, "auth"), { recursive: true });
    copyFileSync(join(a.config.dataDir, "auth", "root-keys.json"), join(dirB.path, "auth", "root-keys.json"));
    const b = await scope.node({ authMode: "on", authRedisUrl: redis.url, dataDir: dirB.path });

    const minted = await a.authority.mint({ tenant: TENANT, apps: [0x0101] }, "test");
    expect(await echo(b, minted.token)).toBe("200");

    const revokedAt = Date.now();
    await a.authority.revokeToken(minted.tokenId, "test");
    let outcome = await echo(b, minted.token);
    while (outcome === "200" && Date.now() - revokedAt < 2_000) {
      await new Promise((r) => setTimeout(r, 20));
      outcome = await echo(b, minted.token);
    }
    expect(outcome).toBe("401 cap_revoked");
    expect(b.authority.revSeq).toBe(1);
    process.stderr.write(`revocation reached node B after ${Date.now() - revokedAt} ms\n`);
  });
});
