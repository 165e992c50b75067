import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, describe, it } from "vitest";
import { loadTlsMaterial } from "../../packages/node/src/tls/dev-certs.js";
import { type Command, npmScript, REPO_ROOT } from "../examples/commands.js";
import { freePort } from "../support/free-port.js";
import { expectFriendlyFailure } from "../support/friendly-failure.js";
import { TestScope } from "../support/scope.js";
import { tempDir } from "../support/temp-dir.js";

const scope = new TestScope();
afterAll(() => scope.close());

const home = tempDir("omnigate-dx-examples-");
scope.defer(home.remove);
// No RON_* settings, and a data dir of the test's own: never the user's node.
const { RON_CAP: _cap, RON_CA_FILE: _ca, RON_NODE_URL: _url, ...inherited } = process.env;
const env: NodeJS.ProcessEnv = { ...inherited, OMNIGATE_DATA_DIR: join(home.path, "data") };

interface Result {
  code: number | null;
  stderr: string;
}

/** Runs an example script to its end, whatever its exit code. */
function runScript({ command, args, env }: Command): Promise<Result> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { cwd: REPO_ROOT, env, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once("error", fail);
    child.once("close", (code) => done({ code, stderr }));
  });
}

describe("the examples' scripts fail with what to do, not a stack trace", { timeout: 120_000 }, () => {
  it("echo and tileserver-load with no node at the URL", async () => {
    const dead = `oap+tls://127.0.0.1:${await freePort()}`;
    const echo = await runScript(npmScript("example:echo", ["--node", dead], env));
    expectFriendlyFailure(echo, /^echo example: cannot connect/, /503 connect_failed/, /npm start/);
    const load = await runScript(npmScript("example:tileserver-load", ["--node", dead], env));
    expectFriendlyFailure(load, /^tileserver-load: cannot connect/, /503 connect_failed/, /npm start/);
  });

  it("echo with a CA that is not the node's", async () => {
    const node = await scope.node();
    const other = tempDir("omnigate-dx-other-ca-");
    scope.defer(other.remove);
    await loadTlsMaterial({ dataDir: other.path, cert: "", key: "" });
    const caFile = join(other.path, "tls", "ca.pem");
    const echo = await runScript(
      npmScript("example:echo", ["--node", node.oapUrl, "--ca-file", caFile], env),
    );
    expectFriendlyFailure(echo, /not trusted/, /tls_untrusted/, /RON_CA_FILE/);
  });

  it("the tileserver without its tile index", async () => {
    const index = join(home.path, "no-index.json");
    const server = await runScript(npmScript("example:tileserver", ["--index", index], env));
    expectFriendlyFailure(server, /cannot read the tile index/, /example:tileserver-load/);
  });
});
