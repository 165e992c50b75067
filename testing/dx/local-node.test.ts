import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { connect, DATA_DIR_ENV, DEFAULT_NODE_URL, nodeDataDir } from "@omnigate/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONFIG_SCHEMA, envName } from "../../packages/node/src/config/index.js";
import type { OmnigateNode } from "../../packages/node/src/index.js";
import { ronctl } from "../../packages/ronctl/test/support/run.js";
import { withLocalDevCredentials } from "../../packages/sdk/src/client/local-node.js";
import { resolveNodeUrl } from "../../packages/sdk/src/client/url.js";
import { freePort } from "../support/free-port.js";
import { TestScope } from "../support/scope.js";
import { tempDir } from "../support/temp-dir.js";

const scope = new TestScope();
const savedEnv = { ...process.env };
let node: OmnigateNode;
let dataDir: string;
let configHome: string;

beforeAll(async () => {
  const data = tempDir("omnigate-dx-data-");
  const config = tempDir("omnigate-dx-config-");
  scope.defer(data.remove);
  scope.defer(config.remove);
  dataDir = data.path;
  configHome = config.path;
  // As `npm start` runs it (capabilities on), but in a temporary data dir: never the real one.
  node = await scope.node({
    // An ephemeral port: testing/docs/docs-run.test.ts owns the default ports, and covers
    // the no-settings-at-all case there by running the quick start as written.
    listen: "127.0.0.1:0",
    authMode: "on",
    dataDir,
  });
  // The SDK in this process sees what a user's shell would: only the data dir override.
  for (const name of ["RON_NODE_URL", "RON_CA_FILE", "RON_CAP"]) delete process.env[name];
  process.env[DATA_DIR_ENV] = dataDir;
});
afterAll(async () => {
  process.env = savedEnv;
  await scope.close();
});

/** ronctl with the data dir override and a config home of the test's own, nothing else. */
function run(args: string[], extra: Record<string, string> = {}, input?: string) {
  return ronctl(args, { env: { OMNIGATE_DATA_DIR: dataDir, XDG_CONFIG_HOME: configHome, ...extra }, input });
}

describe("clients find the local node with no URL, CA or capability given", { timeout: 120_000 }, () => {
  it("the node and its clients honour the same data dir override", () => {
    expect(envName(CONFIG_SCHEMA.dataDir)).toBe(DATA_DIR_ENV);
    expect(nodeDataDir({ [DATA_DIR_ENV]: dataDir })).toBe(dataDir);
    expect(node.config.dataDir).toBe(dataDir);
  });

  it("resolves the local default and the dev credentials of a loopback node", () => {
    expect(resolveNodeUrl(undefined, {})).toBe(DEFAULT_NODE_URL);
    expect(DEFAULT_NODE_URL).toBe("oap+tls://127.0.0.1:9443");
    const env = { [DATA_DIR_ENV]: dataDir };
    const devCap = readFileSync(join(dataDir, "auth", "dev.cap"), "utf8").trim();
    expect(withLocalDevCredentials({}, "127.0.0.1", env)).toEqual({
      caFile: join(dataDir, "tls", "ca.pem"),
      cap: devCap,
    });
    // Another host, or a caller's own trust or capability, is left alone.
    expect(withLocalDevCredentials({}, "node.example", env)).toEqual({});
    expect(withLocalDevCredentials({ ca: "PEM" }, "127.0.0.1", env)).toEqual({ ca: "PEM" });
    expect(withLocalDevCredentials({ cap: "abc" }, "::1", env)).toEqual({
      cap: "abc",
      caFile: join(dataDir, "tls", "ca.pem"),
    });
  });

  it("through a selected context that names only the URL: CA and capability come from the data dir", async () => {
    const added = await run(["context", "add", "local", "--node", node.oapUrl]);
    expect(added.code, added.stderr).toBe(0);
    const file = join(configHome, "omnigate", "contexts.json");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect((await run(["context", "show"])).stdout).toContain(node.oapUrl);

    const sent = await run(["mailbox", "send", "dx/context", "hello"]);
    expect(sent.code, sent.stderr).toBe(0);
    const put = await run(["storage", "put", "-", "--no-progress"], {}, "stored via a context");
    expect(put.code, put.stderr).toBe(0);
    expect(put.stdout).toMatch(/^b3:[0-9a-f]{64}$/m);
    // connect() with the URL alone, as the context gives it: the same discovery in the SDK.
    const client = await connect(node.oapUrl);
    try {
      expect((await client.request(0x0101, { body: "hi" })).code).toBe(200);
    } finally {
      await client.close();
    }
  });

  it("flag > RON_NODE_URL > the selected context", async () => {
    const dead = `oap+tls://127.0.0.1:${await freePort()}`;
    const envWins = await run(["mailbox", "send", "dx/order", "x"], { RON_NODE_URL: dead });
    expect(envWins.code).toBe(1);
    expect(envWins.stderr).toMatch(/node from \$RON_NODE_URL/);
    const flagWins = await run(["mailbox", "send", "dx/order", "x", "--node", node.oapUrl], {
      RON_NODE_URL: dead,
    });
    expect(flagWins.code, flagWins.stderr).toBe(0);
    const removed = await run(["context", "rm", "local"]);
    expect(removed.code, removed.stderr).toBe(0);
    const fallsBack = await run(["context", "show"]);
    expect(fallsBack.code).toBe(1);
    expect(fallsBack.stderr).toMatch(/no context is selected/);
  });
});
