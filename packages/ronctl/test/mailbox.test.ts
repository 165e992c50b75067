import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestScope } from "../../../testing/support/scope.js";
import { tempDir } from "../../../testing/support/temp-dir.js";
import type { OmnigateNode } from "../../node/src/index.js";
import { connect } from "../../sdk/src/index.js";
import { ronctl } from "./support/run.js";

let scope: TestScope;
let node: OmnigateNode;
let caFile: string;

beforeAll(async () => {
  scope = new TestScope();
  node = await scope.node({ mailboxMaxAttempts: 1 });
  const dir = tempDir("omnigate-ronctl-mailbox-");
  scope.defer(dir.remove);
  caFile = join(dir.path, "ca.pem");
  writeFileSync(caFile, node.caPem ?? "");
});
afterAll(async () => {
  await scope?.close();
});

function mailbox(args: string[], input?: string) {
  return ronctl(["mailbox", ...args, "--url", node.oapUrl, "--ca-file", caFile, "--tenant", "2a"], { input });
}

function lines(stdout: string): Array<Record<string, unknown>> {
  return stdout
    .trim()
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

// Each command is a child process running the TypeScript sources: slow on a loaded machine.
describe("ronctl mailbox against a real node", { timeout: 120_000 }, () => {
  it("send (argument and stdin), recv --ack, then the topic is empty", async () => {
    const first = await mailbox(["send", "ops/a", "hello", "--attr", "k=v", "--idem-key", "x1"]);
    expect(first.code, first.stderr).toBe(0);
    const [sent] = lines(first.stdout);
    expect(sent).toMatchObject({ duplicate: false });
    const again = lines((await mailbox(["send", "ops/a", "hello", "--idem-key", "x1"])).stdout);
    expect(again).toEqual([{ msg_id: sent?.msg_id, duplicate: true }]);
    expect((await mailbox(["send", "ops/a"], "from stdin")).code).toBe(0);

    const recv = await mailbox(["recv", "ops/a", "--max", "10", "--ack"]);
    expect(recv.code, recv.stderr).toBe(0);
    const got = lines(recv.stdout);
    expect(got.map((m) => m.body)).toEqual(["hello", "from stdin"]);
    expect(got[0]).toMatchObject({ msg_id: sent?.msg_id, attempt: 1, attrs: { k: "v" } });
    expect(lines((await mailbox(["recv", "ops/a", "--max", "10"])).stdout)).toEqual([]);
  });

  it("tail prints messages as they arrive and acks them", async () => {
    await mailbox(["send", "ops/tail", "one"]);
    await mailbox(["send", "ops/tail", "two"]);
    const tail = await mailbox(["tail", "ops/tail", "--count", "2"]);
    expect(tail.code, tail.stderr).toBe(0);
    expect(lines(tail.stdout).map((m) => m.body)).toEqual(["one", "two"]);
    expect(lines((await mailbox(["recv", "ops/tail", "--max", "10"])).stdout)).toEqual([]);
  });

  it("dlq list, redrive and purge", async () => {
    const client = await connect(node.oapUrl, { ca: node.caPem, tenant: 0x2an });
    // max_attempts is 1: a NACK of the first delivery dead-letters the message.
    const kill = async (): Promise<string> => {
      const [got] = lines((await mailbox(["recv", "ops/dead"])).stdout);
      await client.mailbox.nack(String(got?.receipt), { error: "bad" });
      return String(got?.msg_id);
    };
    try {
      await mailbox(["send", "ops/dead", "poison"]);
      const msgId = await kill();
      const listed = lines((await mailbox(["dlq", "list", "ops/dead"])).stdout);
      expect(listed).toMatchObject([{ msg_id: msgId, attempts: 1, last_error: "bad", body: "poison" }]);
      expect(lines((await mailbox(["dlq", "redrive", "ops/dead"])).stdout)).toEqual([{ redriven: 1 }]);
      expect(await kill()).toBe(msgId);
      expect(lines((await mailbox(["dlq", "purge", "ops/dead"])).stdout)).toEqual([{ purged: 1 }]);
      expect(lines((await mailbox(["dlq", "list", "ops/dead"])).stdout)).toEqual([]);
    } finally {
      await client.close();
    }
  });

  it("refuses with the node's reason and exit code 1", async () => {
    const bad = await mailbox(["recv", "bad topic"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("400 bad_meta");
  });
});
