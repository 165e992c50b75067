import { randomFillSync } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connect } from "@omnigate/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestScope } from "../../../testing/support/scope.js";
import { tempDir } from "../../../testing/support/temp-dir.js";
import { ronctl } from "./support/run.js";

const scope = new TestScope();
let env: Record<string, string>;
let dir: string;
let nodeUrl: string;
let caPem: string;

beforeAll(async () => {
  const node = await scope.node();
  const files = tempDir("omnigate-ronctl-storage-");
  scope.defer(files.remove);
  dir = files.path;
  nodeUrl = node.oapUrl;
  caPem = node.caPem as string;
  writeFileSync(join(dir, "ca.pem"), caPem);
  env = { RON_NODE_URL: node.oapUrl, RON_CA_FILE: join(dir, "ca.pem") };
});
afterAll(() => scope.close());

// Each command is a child process running the TypeScript sources: slow on a loaded machine.
describe("ronctl storage against a node", { timeout: 120_000 }, () => {
  it("puts a file, says it has it, and gets it back byte for byte", async () => {
    const data = randomFillSync(Buffer.alloc(3 * 1024 * 1024 + 17));
    writeFileSync(join(dir, "in.bin"), data);
    const put = await ronctl(["storage", "put", join(dir, "in.bin"), "--tenant", "2a"], { env });
    expect(put.code, put.stderr).toBe(0);
    const addr = put.stdout.trim();
    expect(addr).toMatch(/^b3:[0-9a-f]{64}$/);

    const has = await ronctl(["storage", "has", addr, "--tenant", "2a"], { env });
    expect(has.code, has.stderr).toBe(0);
    expect(has.stdout).toBe(`${data.length}\n`);

    const out = join(dir, "out.bin");
    const get = await ronctl(["storage", "get", addr, "--tenant", "2a", "--out", out], { env });
    expect(get.code, get.stderr).toBe(0);
    expect(readFileSync(out).equals(data)).toBe(true);

    // Another tenant does not see it.
    const other = await ronctl(["storage", "has", addr, "--tenant", "2b"], { env });
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/not found/);
  });

  it("reads stdin with -, writes a range to stdout, and reports refusals", async () => {
    const put = await ronctl(["storage", "put", "-", "--json"], { env, input: "hello, storage" });
    expect(put.code, put.stderr).toBe(0);
    const result = JSON.parse(put.stdout) as { addr: string; size: number; created: boolean };
    expect(result).toMatchObject({ size: 14, created: true });

    const range = await ronctl(["storage", "get", result.addr, "--range", "7-"], { env });
    expect(range.code, range.stderr).toBe(0);
    expect(range.stdout).toBe("storage");
    const proven = await ronctl(["storage", "get", result.addr, "--range", "7-", "--verify-chunks"], { env });
    expect(proven.code, proven.stderr).toBe(0);
    expect(proven.stdout).toBe("storage");

    const outside = await ronctl(["storage", "get", result.addr, "--range", "100-"], { env });
    expect(outside.code).toBe(1);
    expect(outside.stderr).toMatch(/416 range_not_satisfiable/);

    const bad = await ronctl(["storage", "get", "b3:nothex"], { env });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/not an object address/);
  });

  it("the same object read through the SDK matches what ronctl stored", async () => {
    const put = await ronctl(["storage", "put", "-", "--tenant", "5"], { env, input: "via ronctl" });
    expect(put.code, put.stderr).toBe(0);
    const client = await connect(nodeUrl, { ca: caPem, tenant: 5n });
    try {
      const addr = put.stdout.trim() as `b3:${string}`;
      expect((await client.storage.getBytes(addr)).toString()).toBe("via ronctl");
    } finally {
      await client.close();
    }
  });
});
