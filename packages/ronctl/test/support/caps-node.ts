import { mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { tempDir } from "../../../../testing/support/temp-dir.js";
// Tests may reach into the node (ronctl's sources may not): the real admin API and Authority.
import { CapsApi } from "../../../node/src/admin/caps-api.js";
import { Authority } from "../../../node/src/auth/authority.js";
import { newAdminToken } from "../../../node/src/auth/node-auth.js";
import { createLogger } from "../../../node/src/log.js";

export interface CapsNode {
  /** http://127.0.0.1:<port> */
  url: string;
  dataDir: string;
  adminToken: string;
  authority: Authority;
  stop(): Promise<void>;
}

/**
 * A real HTTP server on 127.0.0.1 (ephemeral port) serving the node's capability admin API
 * with a real Authority on a temporary data dir laid out as the node lays it out
 * (`auth/root-keys.json`, `auth/admin.token`, ...).
 */
export async function startCapsNode(): Promise<CapsNode> {
  const dir = tempDir("omnigate-roncap-");
  const authDir = join(dir.path, "auth");
  const authority = await Authority.open({
    dir: authDir,
    nodeId: "ronctl-test",
    settings: {
      mode: "on",
      keyGraceMs: 10 * 60_000,
      skewSeconds: 60,
      redisUrl: "",
      devCapTtlSeconds: 86_400,
    },
    log: createLogger("silent", { pretty: false }),
  });
  const adminToken = newAdminToken();
  mkdirSync(authDir, { recursive: true });
  writeFileSync(join(authDir, "admin.token"), `${adminToken}\n`, { mode: 0o600 });
  const api = new CapsApi(authority, adminToken);
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://admin");
    if (api.handles(url.pathname)) {
      void api.handle(req, res, url.pathname, url.searchParams);
      return;
    }
    res.writeHead(404, { "content-type": "application/json" });
    res.end(`${JSON.stringify({ error: "not found" })}\n`);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    dataDir: dir.path,
    adminToken,
    authority,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await authority.close();
      dir.remove();
    },
  };
}
