import { AppProtoId } from "@omnigate/oap";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { sampleValue, scrape } from "../../../testing/support/prometheus-text.js";
import {
  connect,
  decodeRecords,
  encodeRecords,
  type MailboxMessage,
  type OapClient,
  type OapEvent,
  OapRequestError,
} from "../src/internal.js";
import { eventually, startTestNode, type TestNode } from "./support/node.js";

async function refusal(promise: Promise<unknown>): Promise<OapRequestError> {
  const error = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(OapRequestError);
  return error as OapRequestError;
}

describe("client.mailbox against a real node (sqlite engine)", () => {
  let test: TestNode;
  let client: OapClient;

  beforeEach(async () => {
    test = await startTestNode({ overrides: { mailboxMaxAttempts: 2 } });
    client = await connect(test.node.oapUrl, { ca: test.node.caPem, tenant: 7n });
  });
  afterEach(async () => {
    await client.close();
    await test.stop();
  });

  it("sends the acks of one turn as one request; each settles on its own, a stale one alone is refused", async () => {
    for (const text of ["a", "b", "c"]) await client.mailbox.send("jobs", text);
    const [a, b, c] = await client.mailbox.recv("jobs", { max: 3, visibilityMs: 60_000 });
    await a?.ack();
    const before = await scrape(test.node.adminUrl);
    const acked = (m: MailboxMessage | undefined) => (m as MailboxMessage).ack();
    const outcomes = await Promise.allSettled([acked(a), acked(b), acked(c)]);
    const after = await scrape(test.node.adminUrl);

    expect(outcomes.map((o) => o.status)).toEqual(["rejected", "fulfilled", "fulfilled"]);
    const stale = (outcomes[0] as PromiseRejectedResult).reason as OapRequestError;
    expect(stale).toBeInstanceOf(OapRequestError);
    expect([stale.code, stale.reason]).toEqual([410, "stale"]);
    const requests = (m: typeof before) =>
      sampleValue(m, "requests_total", { app: "0x0201", code: "200" }) ?? 0;
    expect(requests(after) - requests(before)).toBe(1);
    expect(sampleValue(after, "mailbox_acked_total")).toBe(3);
    expect(await client.mailbox.recv("jobs", { max: 3 })).toEqual([]);
  });

  it("sends the sends of one turn as one request, in order; a refused one (quota) fails alone", async () => {
    const small = await startTestNode({ overrides: { mailboxMaxDepth: 3 } });
    const c = await connect(small.node.oapUrl, { ca: small.node.caPem, tenant: 9n });
    try {
      const before = await scrape(small.node.adminUrl);
      const outcomes = await Promise.allSettled(
        ["m1", "m2", "m3", "m4"].map((text, i) => c.mailbox.send("batch", text, { attrs: { n: `${i}` } })),
      );
      const after = await scrape(small.node.adminUrl);
      const requests = (m: typeof before) =>
        (sampleValue(m, "requests_total", { app: "0x0201", code: "200" }) ?? 0) +
        (sampleValue(m, "requests_total", { app: "0x0201", code: "429" }) ?? 0);
      expect(requests(after) - requests(before)).toBe(1);
      expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "fulfilled", "fulfilled", "rejected"]);
      const quota = (outcomes[3] as PromiseRejectedResult).reason as OapRequestError;
      expect([quota.code, quota.reason, quota.retryAfterMs]).toEqual([429, "quota", 1000]);
      const got = await c.mailbox.recv("batch", { max: 10 });
      expect(got.map((m) => [m.body.toString(), m.attrs.n])).toEqual([
        ["m1", "0"],
        ["m2", "1"],
        ["m3", "2"],
      ]);
      const ids = outcomes
        .slice(0, 3)
        .map((o) => (o as PromiseFulfilledResult<{ msgId: string }>).value.msgId);
      expect(got.map((m) => m.msgId)).toEqual(ids);
    } finally {
      await c.close();
      await small.stop();
    }
  });

  it("refuses a SEND batch whose body does not hold the records it announces with 400 bad_meta", async () => {
    const two = encodeRecords([
      { meta: {}, body: new Uint8Array([1]) },
      { meta: {}, body: new Uint8Array([2]) },
    ]);
    for (const [batch, body] of [
      [3, two],
      [2, two.subarray(0, two.byteLength - 1)],
      [1, new Uint8Array([0, 0, 0, 2, 0x7b])],
    ] as const) {
      const error = await refusal(
        client.request(AppProtoId.MAILBOX, { meta: { op: "send", topic: "t", batch }, body }),
      );
      expect([error.code, error.reason]).toEqual([400, "bad_meta"]);
    }
    expect(await client.mailbox.recv("t", { max: 10 })).toEqual([]);
  });

  it("refuses an ACK list that is empty, too long or not strings with 400 bad_meta", async () => {
    for (const receipts of [[], Array.from({ length: 501 }, (_, i) => `x.${i}`), [1, 2]]) {
      const error = await refusal(client.request(AppProtoId.MAILBOX, { meta: { op: "ack", receipts } }));
      expect([error.code, error.reason]).toEqual([400, "bad_meta"]);
    }
  });

  it("sends, receives byte-exact bodies with attrs, acks; an idem_key send is a duplicate", async () => {
    const bytes = Buffer.from([0, 1, 2, 250, 251, 255]);
    const sent = await client.mailbox.send("chat/room-1", bytes, { idemKey: "k1", attrs: { from: "ann" } });
    expect(sent.duplicate).toBe(false);
    expect(await client.mailbox.send("chat/room-1", bytes, { idemKey: "k1" })).toEqual({
      ...sent,
      duplicate: true,
    });
    const conflict = await refusal(client.mailbox.send("chat/room-1", "other", { idemKey: "k1" }));
    expect([conflict.code, conflict.reason]).toEqual([409, "conflict"]);

    const [msg, ...rest] = await client.mailbox.recv("chat/room-1", { max: 10 });
    expect(rest).toEqual([]);
    expect(msg?.msgId).toBe(sent.msgId);
    expect(msg?.attempt).toBe(1);
    expect(msg?.attrs).toEqual({ from: "ann" });
    expect(msg?.body.equals(bytes)).toBe(true);
    await msg?.ack();
    const stale = await refusal(client.mailbox.ack(msg?.receipt ?? ""));
    expect([stale.code, stale.reason]).toEqual([410, "stale"]);

    const metrics = await scrape(test.node.adminUrl);
    expect(sampleValue(metrics, "mailbox_enqueued_total")).toBe(1);
    expect(sampleValue(metrics, "mailbox_delivered_total")).toBe(1);
    expect(sampleValue(metrics, "mailbox_acked_total")).toBe(1);
    expect(sampleValue(metrics, "mailbox_depth", { state: "ready" })).toBe(0);
  });

  it("NACK, EXTEND, DELETE and the DLQ ops through the node", async () => {
    const { msgId } = await client.mailbox.send("jobs", "poison");
    const [first] = await client.mailbox.recv("jobs", { visibilityMs: 60_000 });
    await first?.extend(120_000);
    await first?.nack(0, "bad input");
    const [second] = await client.mailbox.recv("jobs");
    expect(second?.attempt).toBe(2);
    await second?.nack(0, "still bad");
    expect(await client.mailbox.recv("jobs")).toEqual([]);
    const [dead] = await client.mailbox.dlqList("jobs");
    expect(dead).toMatchObject({ msgId, attempts: 2, lastError: "still bad" });
    expect(dead?.body.toString()).toBe("poison");
    const metrics = await scrape(test.node.adminUrl);
    expect(sampleValue(metrics, "mailbox_dlq_total")).toBe(1);
    expect(sampleValue(metrics, "mailbox_redelivered_total")).toBe(1);
    expect(sampleValue(metrics, "mailbox_depth", { state: "dlq" })).toBe(1);

    expect(await client.mailbox.dlqRedrive("jobs")).toBe(1);
    const [again] = await client.mailbox.recv("jobs");
    expect(again?.attempt).toBe(1);
    expect(await client.mailbox.delete(msgId)).toBe(true);
    expect(await client.mailbox.delete(msgId)).toBe(false);
    await client.mailbox.send("jobs", "x");
    for (const m of await client.mailbox.recv("jobs")) await m.nack();
    for (const m of await client.mailbox.recv("jobs")) await m.nack();
    expect(await client.mailbox.dlqPurge("jobs")).toBe(1);
  });

  it("wakes a long-polling RECV when a message is sent", async () => {
    const waiting = client.mailbox.recv("wake", { waitMs: 20_000 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await client.mailbox.send("wake", "now");
    const [got] = await waiting;
    expect(got?.body.toString()).toBe("now");
  });

  it("keeps tenants apart", async () => {
    await client.mailbox.send("shared-name", "for 7");
    expect(await client.mailbox.recv("shared-name", { tenant: 8n })).toEqual([]);
    const [mine] = await client.mailbox.recv("shared-name");
    expect((await refusal(client.mailbox.ack(mine?.receipt ?? "", { tenant: 8n }))).reason).toBe("stale");
    await mine?.ack();
  });

  it("refuses bad requests with 400 bad_meta or 413, and keeps serving", async () => {
    const bad = [
      () => client.request(AppProtoId.MAILBOX, { meta: {} }),
      () => client.request(AppProtoId.MAILBOX, { meta: { op: "frobnicate" } }),
      () => client.mailbox.send("bad topic!", "x"),
      () => client.mailbox.send("a//b", "x"),
      () => client.mailbox.send("x".repeat(300), "x"),
      () => client.mailbox.recv("t", { max: 100_000 }),
      () => client.mailbox.recv("t", { visibilityMs: 10 }),
      () => client.mailbox.ack("no-receipt"),
      () =>
        client.request(AppProtoId.MAILBOX, {
          meta: { op: "extend", receipt: "01HF7YAT00R6RTYCS448NHFNW8.1" },
        }),
      () => client.request(AppProtoId.MAILBOX, { meta: { op: "send", topic: "t", attrs: { n: 1 } } }),
    ];
    for (const call of bad) expect((await refusal(call())).reason).toBe("bad_meta");
    const tooBig = await refusal(
      client.mailbox.send("t", Buffer.alloc(test.node.config.mailboxMaxBodyBytes + 1)),
    );
    expect([tooBig.code, tooBig.reason]).toEqual([413, "payload_too_large"]);
    expect((await client.mailbox.send("t", "fine")).duplicate).toBe(false);
  });

  it("subscribe: for await with msg.ack(), messages sent before and while subscribed", async () => {
    for (let i = 0; i < 3; i++) await client.mailbox.send("feed", `m${i}`);
    const got: string[] = [];
    const abort = new AbortController();
    for await (const msg of client.mailbox.subscribe("feed", { credit: 2, signal: abort.signal })) {
      got.push(msg.body.toString());
      await msg.ack();
      if (got.length === 3) await client.mailbox.send("feed", "m3");
      if (got.length === 4) break;
    }
    expect(got).toEqual(["m0", "m1", "m2", "m3"]);
    const metrics = await scrape(test.node.adminUrl);
    expect(sampleValue(metrics, "mailbox_acked_total")).toBe(4);
  });

  it("subscribe pushes no more than the credit granted; a grant lets more through", async () => {
    for (let i = 0; i < 5; i++) await client.mailbox.send("credit", `m${i}`);
    const pushed: OapEvent[] = [];
    const stream = client.stream(AppProtoId.MAILBOX, {
      meta: { op: "subscribe", topic: "credit", ack: "explicit", credit: 2, visibility_ms: 60_000 },
      deadlineMs: Number.POSITIVE_INFINITY,
      onEvent: (event) => pushed.push(event),
    });
    expect((await stream.response).meta).toMatchObject({ subscribed: true, ack: "explicit", credit: 2 });
    await eventually(() => pushed.length >= 2);
    expect(pushed.map((e) => e.body.toString())).toEqual(["m0", "m1"]);
    expect(pushed[0]).toMatchObject({ appProtoId: AppProtoId.MAILBOX, corrId: stream.corrId, e2e: false });
    expect(pushed[0]?.meta).toMatchObject({ topic: "credit", attempt: 1 });
    // With the credit spent the subscription leases nothing more: RECV gets the other three.
    const others = await client.mailbox.recv("credit", { max: 10, visibilityMs: 60_000 });
    expect(others.map((m) => m.body.toString())).toEqual(["m2", "m3", "m4"]);
    await client.mailbox.send("credit", "m5");
    await stream.sendEvent({ credit: 1 }, { ackRequest: true });
    await eventually(() => pushed.length >= 3);
    expect(pushed[2]?.body.toString()).toBe("m5");
    await stream.end();
    for await (const chunk of stream) expect(chunk.byteLength).toBe(0);
    expect(pushed).toHaveLength(3);
  });

  it("subscribe: msg.e2e follows the pushed EVENT's APP_E2E flag, the body byte-exact", async () => {
    const sealed = Buffer.from([0xff, 0, 0x80, 1]);
    await client.mailbox.send("sealed", sealed, { e2e: true });
    await client.mailbox.send("sealed", "plain");
    const got: MailboxMessage[] = [];
    for await (const msg of client.mailbox.subscribe("sealed", { credit: 2 })) {
      got.push(msg);
      await msg.ack();
      if (got.length === 2) break;
    }
    expect(got.map((m) => m.e2e)).toEqual([true, false]);
    expect(got[0]?.body.equals(sealed)).toBe(true);
  });

  it("subscribe: a loop that leaves hands back at once what was pushed but not taken", async () => {
    for (let i = 0; i < 4; i++) await client.mailbox.send("leave", `m${i}`);
    // Leaves after the first message: the other three were pushed (leased to the loop) or are
    // about to be; either way they are handed back now, not after their 60 s visibility.
    for await (const msg of client.mailbox.subscribe("leave", { credit: 4, visibilityMs: 60_000 })) {
      await msg.ack();
      break;
    }
    const back: string[] = [];
    while (back.length < 3) {
      const got = await client.mailbox.recv("leave", { max: 10, waitMs: 10_000, visibilityMs: 60_000 });
      expect(got.length).toBeGreaterThan(0);
      back.push(...got.map((m) => m.body.toString()));
    }
    expect(back.sort()).toEqual(["m1", "m2", "m3"]);
  });

  it("subscribe: ending by deadline subscribes again, and messages keep coming", async () => {
    await client.mailbox.send("again", "before");
    const got: string[] = [];
    for await (const msg of client.mailbox.subscribe("again", { credit: 1, deadlineMs: 300 })) {
      got.push(msg.body.toString());
      await msg.ack();
      if (got.length === 2) break;
      // Past the subscription's deadline: only a new subscription can deliver what comes next.
      await new Promise((resolve) => setTimeout(resolve, 600));
      await client.mailbox.send("again", "after");
    }
    expect(got).toEqual(["before", "after"]);
  });

  it("subscribe with ack auto acks as it pushes (at-most-once)", async () => {
    await client.mailbox.send("auto", "once");
    const got: MailboxMessage[] = [];
    for await (const msg of client.mailbox.subscribe("auto", { ack: "auto", visibilityMs: 60_000 })) {
      got.push(msg);
      break;
    }
    expect(got.map((m) => m.body.toString())).toEqual(["once"]);
    expect((await refusal(got[0]?.ack() ?? Promise.resolve())).reason).toBe("stale");
    const metrics = await scrape(test.node.adminUrl);
    expect(sampleValue(metrics, "mailbox_acked_total")).toBe(1);
    expect(sampleValue(metrics, "mailbox_depth", { state: "inflight" })).toBe(0);
  });

  it("RECV replies decode as records", async () => {
    await client.mailbox.send("raw", "r");
    const reply = await client.request(AppProtoId.MAILBOX, { meta: { op: "recv", topic: "raw", max: 5 } });
    expect(reply.meta.count).toBe(1);
    const [record] = decodeRecords(reply.body, 1 << 20);
    expect(Buffer.from(record?.body ?? []).toString()).toBe("r");
    expect(record?.meta).toMatchObject({ attempt: 1, topic: "raw" });
  });
});

describe("client.mailbox while the node drains", () => {
  it("answers a long poll empty and ends a subscription cleanly when the node closes", async () => {
    // Longer than the test's own timeout: without the drain ending them, both would hang it.
    const test = await startTestNode({ overrides: { drainTimeoutMs: 120_000, mailboxMaxWaitMs: 120_000 } });
    const client = await connect(test.node.oapUrl, { ca: test.node.caPem });
    try {
      await client.mailbox.send("drain", "first");
      const pushed: string[] = [];
      const stream = client.stream(AppProtoId.MAILBOX, {
        meta: { op: "subscribe", topic: "drain", credit: 5 },
        deadlineMs: Number.POSITIVE_INFINITY,
        onEvent: (event) => pushed.push(event.body.toString()),
      });
      const iterator = stream[Symbol.asyncIterator]();
      await eventually(() => pushed.length >= 1);
      const poll = client.mailbox.recv("empty", { waitMs: 120_000, deadlineMs: 180_000 });
      await new Promise((resolve) => setTimeout(resolve, 50));
      const closing = test.node.close();
      expect(await poll).toEqual([]);
      // The subscription's response ends normally: iteration finishes without an error.
      for (;;) if ((await iterator.next()).done) break;
      await closing;
      expect(pushed).toEqual(["first"]);
    } finally {
      await client.close();
      await test.stop();
    }
  });
});
