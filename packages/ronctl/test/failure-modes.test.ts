import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../../testing/support/free-port.js";
import { expectFriendlyFailure } from "../../../testing/support/friendly-failure.js";
import { TestScope } from "../../../testing/support/scope.js";
import { tempDir } from "../../../testing/support/temp-dir.js";
import type { OmnigateNode } from "../../node/src/index.js";
// The test may reach into the node (ronctl's sources may not): a second dev CA, for the wrong-CA case.
import { loadTlsMaterial } from "../../node/src/tls/dev-certs.js";
import { type RunResult, ronctl } from "./support/run.js";

const scope = new TestScope();
let node: OmnigateNode;
let dir: string;
let caFile: string;
let devCap: string;

beforeAll(async () => {
  // Capabilities on, and no clock skew allowed: a token past its expiry is refused at once.
  node = await scope.node({ authMode: "on", authSkewSeconds: 0 });
  const files = tempDir("omnigate-ronctl-failures-");
  scope.defer(files.remove);
  dir = files.path;
  caFile = join(dir, "ca.pem");
  writeFileSync(caFile, node.caPem ?? "");
  devCap = node.auth.devCap ?? "";
});
afterAll(() => scope.close());

/** `ronctl mailbox send` to the test node, with the flags given after the defaults. */
function send(topic: string, flags: string[]): Promise<RunResult> {
  return ronctl(["mailbox", "send", topic, "hi", "--node", node.oapUrl, "--ca-file", caFile, ...flags]);
}

// Each command is a child process running the TypeScript sources: slow on a loaded machine.
describe("ronctl failure modes print what failed, why and what to do", { timeout: 120_000 }, () => {
  it("the node is down", async () => {
    const url = `oap+tls://127.0.0.1:${await freePort()}`;
    const result = await ronctl(["mailbox", "send", "ops/a", "hi", "--node", url]);
    expectFriendlyFailure(result, /ECONNREFUSED/, /503 connect_failed/, /node from --node/, /npm start/);
  });

  it("the CA is not the node's", async () => {
    const other = tempDir("omnigate-ronctl-other-ca-");
    scope.defer(other.remove);
    await loadTlsMaterial({ dataDir: other.path, cert: "", key: "" });
    const result = await send("ops/a", ["--ca-file", join(other.path, "tls", "ca.pem"), "--cap", devCap]);
    expectFriendlyFailure(result, /not trusted/, /tls_untrusted/, /RON_CA_FILE/);
  });

  it("the capability expired", async () => {
    const expired = await node.authority.mint({ tenant: 0n, ttlSeconds: -60 }, "test");
    const result = await send("ops/a", ["--cap", expired.token]);
    expectFriendlyFailure(result, /401 cap_expired/, /ronctl cap mint/);
  });

  it("the capability was revoked", async () => {
    const minted = await node.authority.mint({ tenant: 0n }, "test");
    await node.authority.revokeToken(minted.tokenId, "test");
    const result = await send("ops/a", ["--cap", minted.token]);
    expectFriendlyFailure(result, /401 cap_revoked/, /ronctl cap mint/);
  });

  it("no capability at all", async () => {
    const result = await send("ops/a", []);
    expectFriendlyFailure(result, /401 unauthenticated/, /--cap/);
  });

  it("the topic does not match the node's topic pattern", async () => {
    const result = await send("no spaces allowed", ["--cap", devCap]);
    expectFriendlyFailure(result, /topic must match/, /400 bad_meta/);
  });

  it("the file to store does not exist", async () => {
    const missing = join(dir, "no-such-file.bin");
    const result = await ronctl(["storage", "put", missing, "--node", node.oapUrl, "--ca-file", caFile]);
    expectFriendlyFailure(result, /cannot read .*no-such-file\.bin/, /no such file/);
  });

  it("the capability file does not exist", async () => {
    const result = await send("ops/a", ["--cap-file", join(dir, "no-such.cap")]);
    expectFriendlyFailure(result, /cannot read the capability file .*no-such\.cap/, /ronctl cap mint/);
  });

  it("the CA file does not exist", async () => {
    const result = await send("ops/a", ["--ca-file", join(dir, "no-such-ca.pem")]);
    expectFriendlyFailure(
      result,
      /cannot read the CA file .*no-such-ca\.pem \(from --ca-file\): no such file/,
    );
  });

  it("--verbose adds the stack and causes", async () => {
    const url = `oap+tls://127.0.0.1:${await freePort()}`;
    const result = await ronctl(["mailbox", "send", "ops/a", "hi", "--node", url, "--verbose"]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/^\s+at /m);
    expect(result.stderr).toMatch(/caused by: OapConnectionError/);
  });
});
