import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_INDEX } from "../../examples/tileserver/options.js";
import { startNodeProcess } from "../support/node-process.js";
import { TestScope } from "../support/scope.js";
import { tempDir } from "../support/temp-dir.js";
import { gitStatus, npmScript, preserveFile, REPO_ROOT, removeIfCreated, run, start } from "./commands.js";

const scope = new TestScope();
afterEach(() => scope.close());

/**
 * The examples run as their READMEs say, from the repository root, against a node started
 * as `npm start` would (capabilities on, data in the per-user data dir — here a fresh one, as
 * for a new user). Afterwards `git status` must show nothing new: a file left in the checkout
 * shows up in the next `npm test` (Biome checks every file it finds) and in a `git add -A`.
 * Ports are ephemeral (`--port 0`, and the node's config rewritten to the backend's port), so
 * the test runs beside a developer's own node. Each command is the package.json script's own
 * (see `npmScript` for the one part left out, the build).
 */
describe("the examples leave the checkout clean", { timeout: 60_000 }, () => {
  it("tileserver load and server, echo backend and client write only to ignored paths", async () => {
    // Compared with a snapshot, not with an empty status: a developer's uncommitted work is theirs.
    const statusBefore = gitStatus();
    // What the examples write to ignored paths, put back as it was afterwards.
    scope.defer(preserveFile(DEFAULT_INDEX));
    scope.defer(removeIfCreated("examples/echo/.backend"));

    const home = tempDir("omnigate-examples-home-");
    scope.defer(home.remove);
    const dataDir = join(home.path, "omnigate");
    const { RON_CAP: _cap, RON_CA_FILE: _ca, RON_NODE_URL: _url, ...inherited } = process.env;
    const env: NodeJS.ProcessEnv = { ...inherited, XDG_DATA_HOME: home.path };

    // examples/echo/README.md: the backend first (it makes its CA), then a node with node.toml.
    const backend = await start(
      npmScript("example:echo-backend", ["--port", "0"], env),
      /OAP\/1 over TLS\s+(oap\+tls:\/\/\S+)/,
      30_000,
    );
    scope.defer(backend.stop);
    const config = join(home.path, "node.toml");
    const toml = readFileSync(join(REPO_ROOT, "examples/echo/node.toml"), "utf8");
    writeFileSync(config, toml.replace("oap+tls://127.0.0.1:9701", backend.match[1] as string));
    const node = await startNodeProcess(["--config", config, "--auth-mode", "on"], { dataDir });
    scope.defer(() => node.stop());
    env.RON_NODE_URL = node.oapUrl;

    // The echo client finds the CA and dev capability in the per-user data dir by itself.
    const echo = await run(npmScript("example:echo", [], env));
    expect(echo.stdout).toMatch(/request {2}→ 200/);
    const routed = await run(npmScript("example:echo", ["--app", "0x1001"], env));
    expect(routed.stdout).toMatch(/"backend":\{"app":"0x1001"/);
    await backend.stop();

    // examples/tileserver/README.md: no CA or capability to export; like the echo client, the
    // loader and the server find the node's dev CA and dev capability in its data dir.
    const tileEnv = env;
    const load = await run(npmScript("example:tileserver-load", ["--max-zoom", "1"], tileEnv));
    expect(load.stdout).toMatch(/stored 5 tiles/);
    const server = await start(
      npmScript("example:tileserver", ["--port", "0"], tileEnv),
      /tileserver: (http:\/\/\S+?)\/ /,
    );
    scope.defer(server.stop);
    const tile = await fetch(`${server.match[1]}/tiles/1/1/0.png`);
    expect(tile.status).toBe(200);
    expect(tile.headers.get("content-type")).toBe("image/png");
    expect(
      Buffer.from(await tile.arrayBuffer())
        .subarray(1, 4)
        .toString("latin1"),
    ).toBe("PNG");
    await server.stop();

    const statusAfter = gitStatus();
    expect(statusAfter.filter((line) => !statusBefore.includes(line))).toEqual([]);
  });
});
