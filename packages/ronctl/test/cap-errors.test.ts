import { mkdirSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../../../testing/support/temp-dir.js";
import { type CapsNode, startCapsNode } from "./support/caps-node.js";
import { ronctl } from "./support/run.js";

let node: CapsNode;
const dirs: Array<{ remove: () => void }> = [];
beforeAll(async () => {
  node = await startCapsNode();
});
afterAll(async () => {
  await node?.stop();
  for (const d of dirs.splice(0)) d.remove();
});

function listen(server: Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)),
  );
}
function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

describe("ronctl cap: reaching the node and its errors", { timeout: 120_000 }, () => {
  it("a wrong admin token gets a 401 that says where the node keeps the right one", async () => {
    const wrongDir = tempDir("omnigate-roncap-wrong-");
    dirs.push(wrongDir);
    mkdirSync(join(wrongDir.path, "auth"));
    const wrongFile = join(wrongDir.path, "auth", "admin.token");
    writeFileSync(wrongFile, "not-the-token\n");
    const [flag, file] = await Promise.all([
      ronctl(["cap", "keys", "--admin", node.url, "--admin-token", "nope", "--data-dir", node.dataDir]),
      ronctl(["cap", "rotate", "--admin", node.url, "--data-dir", wrongDir.path]),
    ]);
    expect(flag.code).toBe(1);
    expect(flag.stdout).toBe("");
    expect(flag.stderr).toContain(
      `ronctl: the node at ${node.url} refused the admin token from --admin-token (401`,
    );
    expect(flag.stderr).toContain(`(here: ${join(node.dataDir, "auth", "admin.token")})`);
    expect(file.code).toBe(1);
    expect(file.stderr).toContain(`refused the admin token from ${wrongFile} (401`);
    // Nothing happened on the node.
    expect(node.authority.keys.list().map((k) => k.id)).toEqual(["k1"]);
  });

  it("an unreachable node gets an error naming the URL and how to start a node", async () => {
    const server = createServer();
    const port = await listen(server);
    await close(server); // the port is now free: nothing listens there
    const result = await ronctl([
      "cap",
      "mint",
      "--tenant",
      "1",
      "--admin",
      `127.0.0.1:${port}`,
      "--admin-token",
      "t",
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `ronctl: cannot reach a node's admin API at http://127.0.0.1:${port} (ECONNREFUSED). ` +
        "Start a node with `npm start` (its admin address is the `admin` config key, default 127.0.0.1:9600), " +
        "or point --admin / RON_ADMIN_URL at a running node\n",
    );
  });

  it("a server that is not the admin API gets an error saying so", async () => {
    const server = createServer((_req, res) => {
      res.writeHead(404, { "content-type": "text/html" });
      res.end("<h1>not here</h1>");
    });
    const port = await listen(server);
    try {
      const result = await ronctl([
        "cap",
        "keys",
        "--admin",
        `http://127.0.0.1:${port}`,
        "--admin-token",
        "t",
      ]);
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        `ronctl: http://127.0.0.1:${port} answered GET /v1/caps/keys with 404 and no JSON: is --admin the node's admin port?\n`,
      );
    } finally {
      await close(server);
    }
  });

  it("without a token file, says where it looked and how to pass one; env settings work like flags", async () => {
    const empty = tempDir("omnigate-roncap-empty-");
    dirs.push(empty);
    const [missing, viaEnv, viaDataDirEnv] = await Promise.all([
      ronctl(["cap", "keys", "--admin", node.url, "--data-dir", empty.path]),
      ronctl(["cap", "keys", "--json"], {
        env: { RON_ADMIN_URL: node.url, RON_ADMIN_TOKEN: node.adminToken },
      }),
      ronctl(["cap", "list-revoked", "--json"], {
        env: { RON_ADMIN_URL: node.url, OMNIGATE_DATA_DIR: node.dataDir },
      }),
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(
      `ronctl: no admin token: ${join(empty.path, "auth", "admin.token")} does not exist. The node writes it on first ` +
        "start in its data directory; pass that directory with --data-dir (or OMNIGATE_DATA_DIR), or the token itself " +
        "with --admin-token (or RON_ADMIN_TOKEN)\n",
    );
    expect(viaEnv.code, viaEnv.stderr).toBe(0);
    expect(JSON.parse(viaEnv.stdout)).toMatchObject({ keys: [{ id: "k1", current: true }] });
    expect(viaDataDirEnv.code, viaDataDirEnv.stderr).toBe(0);
    expect(JSON.parse(viaDataDirEnv.stdout)).toEqual({ rev_seq: 0, revocations: [] });
  });

  it("refuses bad flags before calling the node", async () => {
    const admin = ["--admin", node.url, "--data-dir", node.dataDir];
    const [tenant, ttl, apps, ops, both, neither, since, url] = await Promise.all([
      ronctl(["cap", "mint", "--tenant", "xyz", ...admin]),
      ronctl(["cap", "mint", "--tenant", "1", "--ttl", "soon", ...admin]),
      ronctl(["cap", "mint", "--tenant", "1", "--apps", "0x0201,0x10000", ...admin]),
      ronctl(["cap", "mint", "--tenant", "1", "--ops", "Mailbox Send", ...admin]),
      ronctl(["cap", "revoke", "--token-id", "a", "--tenant", "1", ...admin]),
      ronctl(["cap", "revoke", ...admin]),
      ronctl(["cap", "list-revoked", "--since", "-1", ...admin]),
      ronctl(["cap", "keys", "--admin", "https://127.0.0.1:9600", "--admin-token", "t"]),
    ]);
    const errors = [tenant, ttl, apps, ops, both, neither, since, url].map((r) => [r.code, r.stderr]);
    expect(errors).toEqual([
      [1, 'ronctl: --tenant must be 1–32 hex digits (optional 0x), got "xyz"\n'],
      [1, 'ronctl: --ttl must be a positive duration like 3600, 30m, 1h or 7d, got "soon"\n'],
      [1, 'ronctl: --apps: "0x10000" is not an app_proto_id (0x0000–0xffff, e.g. 0x0201)\n'],
      [1, "ronctl: --ops: ops are 1–64 of a-z 0-9 _ . - (e.g. mailbox.send)\n"],
      [1, "ronctl: give exactly one of --token-id <id> or --tenant <hex>\n"],
      [1, "ronctl: give exactly one of --token-id <id> or --tenant <hex>\n"],
      [1, 'ronctl: --since must be a rev_seq (integer ≥ 0), got "-1"\n'],
      [
        1,
        'ronctl: the admin API is plain HTTP on the admin port; --admin must start with http://, got "https://127.0.0.1:9600"\n',
      ],
    ]);
    // None of them minted or revoked anything.
    expect(node.authority.revSeq).toBe(0);
  });
});
