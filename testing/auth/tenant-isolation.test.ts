import { connect, type OapClient, OapRequestError } from "@omnigate/sdk";
import { afterEach, describe, expect, it } from "vitest";
import type { OmnigateNode } from "../../packages/node/src/index.js";
import { TestScope } from "../support/scope.js";

const MAILBOX = 0x0201;
const A = 0xaaaan;
const B = 0xbbbbn;
const scope = new TestScope();
afterEach(() => scope.close());

async function clientFor(node: OmnigateNode, tenant: bigint): Promise<OapClient> {
  const minted = await node.authority.mint(
    { tenant, apps: [MAILBOX], ops: ["mailbox.send", "mailbox.recv", "mailbox.ack", "mailbox.delete"] },
    "test",
  );
  const client = await connect(node.oapUrl, {
    ca: node.caPem as string,
    servername: "localhost",
    tenant,
    cap: minted.token,
  });
  scope.defer(() => client.close());
  return client;
}

async function refusal(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return "accepted";
  } catch (err) {
    if (err instanceof OapRequestError) return `${err.code} ${err.reason}`;
    throw err;
  }
}

describe("tenant isolation under capabilities", () => {
  it("a token for tenant A cannot read, ack or delete tenant B's mailbox messages", async () => {
    const node = await scope.node({ authMode: "on", mailboxEngine: "memory" });
    const a = await clientFor(node, A);
    const b = await clientFor(node, B);
    const sent = await b.mailbox.send("chat/room-1", "for B only");

    // A acting as B: its token is bound to A.
    expect(await refusal(a.mailbox.recv("chat/room-1", { tenant: B }))).toBe("403 tenant_mismatch");
    // A as itself sees nothing of B's topic, and cannot delete B's message by id.
    expect(await a.mailbox.recv("chat/room-1", { max: 10 })).toEqual([]);
    expect(await a.mailbox.delete(sent.msgId)).toBe(false);

    // B receives it; A cannot ack B's receipt, as itself or as B.
    const [message] = await b.mailbox.recv("chat/room-1", { max: 1 });
    expect(message?.body.toString()).toBe("for B only");
    const receipt = message?.receipt as string;
    expect(await refusal(a.mailbox.ack(receipt, { tenant: B }))).toBe("403 tenant_mismatch");
    expect(await refusal(a.mailbox.ack(receipt))).not.toBe("accepted");
    // The message is still B's to ack.
    await b.mailbox.ack(receipt);
  });
});

describe("mailbox topic caveats", () => {
  it("a token limited to chat/ settles its own deliveries and cannot touch another topic's", async () => {
    const node = await scope.node({ authMode: "on", mailboxEngine: "memory" });
    const ops = [
      "mailbox.send",
      "mailbox.recv",
      "mailbox.ack",
      "mailbox.nack",
      "mailbox.extend",
      "mailbox.delete",
    ];
    const connectWith = async (topics?: string) => {
      const minted = await node.authority.mint(
        { tenant: A, apps: [MAILBOX], ops, ...(topics ? { topics } : {}) },
        "test",
      );
      const client = await connect(node.oapUrl, {
        ca: node.caPem as string,
        servername: "localhost",
        tenant: A,
        cap: minted.token,
      });
      scope.defer(() => client.close());
      return client;
    };
    const chat = await connectWith("chat/");
    const admin = await connectWith();

    await chat.mailbox.send("chat/room-1", "hello", { e2e: true });
    const [mine] = await chat.mailbox.recv("chat/room-1", { visibilityMs: 60_000 });
    expect(mine?.e2e).toBe(true);
    await mine?.extend(60_000);
    await mine?.ack();

    // Another topic's receipt: without a topic the token's caveat refuses; naming an allowed
    // topic does not help, since the node holds the receipt to its message's topic.
    const sent = await admin.mailbox.send("ops/alerts", "not for chat");
    const [theirs] = await admin.mailbox.recv("ops/alerts", { visibilityMs: 60_000 });
    const receipt = theirs?.receipt as string;
    expect(await refusal(chat.mailbox.ack(receipt))).toBe("403 forbidden");
    expect(await refusal(chat.mailbox.ack(receipt, { topic: "ops/alerts" }))).toBe("403 forbidden");
    expect(await refusal(chat.mailbox.ack(receipt, { topic: "chat/room-1" }))).toBe("410 stale");
    expect(await chat.mailbox.delete(sent.msgId, { topic: "chat/room-1" })).toBe(false);
    expect(await refusal(chat.mailbox.delete(sent.msgId))).toBe("403 forbidden");
    await theirs?.ack();
  });
});

describe("storage tenant isolation under capabilities", () => {
  it("a token for tenant A cannot fetch or see tenant B's private objects", async () => {
    const node = await scope.node({ authMode: "on", storageEngine: "memory" });
    const ops = ["storage.put", "storage.get", "storage.has"];
    const mint = async (tenant: bigint) =>
      (await node.authority.mint({ tenant, apps: [0x0301], ops }, "test")).token;
    const connectAs = async (tenant: bigint) => {
      const client = await connect(node.oapUrl, {
        ca: node.caPem as string,
        servername: "localhost",
        tenant,
        cap: await mint(tenant),
      });
      scope.defer(() => client.close());
      return client;
    };
    const a = await connectAs(A);
    const b = await connectAs(B);
    const { addr } = await b.storage.put("B's private bytes");
    expect((await b.storage.getBytes(addr)).toString()).toBe("B's private bytes");
    expect(await a.storage.has(addr)).toBeFalsy();
    expect(await refusal(a.storage.getBytes(addr))).toMatch(/^404 /);
  });
});
