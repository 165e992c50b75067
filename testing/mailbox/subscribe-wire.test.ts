import { randomUUID } from "node:crypto";
import { AppProtoId, encodeFrame, encodeStartPayload, Flags, type Meta } from "@omnigate/oap";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { connect } from "../../packages/sdk/src/index.js";
import { eventually } from "../../packages/sdk/test/support/node.js";
import type { RawOapConnection, SeenFrame } from "../support/raw-oap.js";
import { type RedisProcess, startRedis } from "../support/redis-server.js";
import { TestScope } from "../support/scope.js";

/**
 * SUBSCRIBE on the wire (docs/mailbox.md): a raw connection below the SDK subscribes, reads
 * the EVENT frames the node pushes and grants credit with EVENT|ACK_REQ frames of its own.
 */
const MAILBOX = AppProtoId.MAILBOX;
const TENANT = 7n;
const EVENT_ONE = Flags.EVENT | Flags.START | Flags.END;
const GRANT = EVENT_ONE | Flags.ACK_REQ;

const scope = new TestScope();
afterEach(() => scope.close());

/** SUBSCRIBE runs on top of the engine's RECV and ACK: every engine gets the whole file. */
const ENGINES = ["sqlite", "memory", "redis"] as const;
let redis: RedisProcess | undefined;
let engineOverrides: Record<string, string> = {};
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

async function setup(overrides: Record<string, number> = {}) {
  const node = await scope.node({ ...engineOverrides, ...overrides });
  const client = await connect(node.oapUrl, { ca: node.caPem, tenant: TENANT });
  scope.defer(() => client.close());
  const raw = await scope.raw(node);
  return { node, client, raw };
}

function subscribe(raw: RawOapConnection, corrId: bigint, meta: Meta): void {
  raw.write(
    encodeFrame({
      flags: Flags.REQ | Flags.START,
      appProtoId: MAILBOX,
      tenantId: TENANT,
      corrId,
      payload: encodeStartPayload({ op: "subscribe", ...meta }),
    }),
  );
}

function grant(raw: RawOapConnection, corrId: bigint, meta: Meta, flags = GRANT, body?: Uint8Array): void {
  raw.write(
    encodeFrame({
      flags,
      appProtoId: MAILBOX,
      tenantId: TENANT,
      corrId,
      payload: encodeStartPayload(meta, body),
    }),
  );
}

function endRequest(raw: RawOapConnection, corrId: bigint, body?: Uint8Array): void {
  raw.write(
    encodeFrame({
      flags: Flags.REQ | Flags.END,
      appProtoId: MAILBOX,
      tenantId: TENANT,
      corrId,
      payload: body,
    }),
  );
}

const isEvent = (corrId: bigint) => (f: SeenFrame) => (f.flags & Flags.EVENT) !== 0 && f.corrId === corrId;
const isResp = (corrId: bigint) => (f: SeenFrame) => (f.flags & Flags.RESP) !== 0 && f.corrId === corrId;

function events(raw: RawOapConnection, corrId: bigint): SeenFrame[] {
  return raw.frames.filter(isEvent(corrId));
}

async function waitEvents(raw: RawOapConnection, corrId: bigint, n: number): Promise<SeenFrame[]> {
  await eventually(() => events(raw, corrId).length >= n);
  return events(raw, corrId);
}

async function subscribed(raw: RawOapConnection, corrId: bigint): Promise<SeenFrame> {
  const head = await raw.waitFor(isResp(corrId));
  expect(head?.code).toBe(200);
  return head as SeenFrame;
}

/** The error frame that ended a stream (or answered an event) under `corrId`. */
async function errorOn(raw: RawOapConnection, corrId: bigint): Promise<SeenFrame | undefined> {
  return raw.waitFor((f) => isResp(corrId)(f) && f.code >= 400);
}

/** A round trip on the raw connection: every frame the node sent before it has arrived. */
async function roundTrip(raw: RawOapConnection, corrId: bigint): Promise<void> {
  raw.write(
    encodeFrame({
      flags: Flags.REQ | Flags.START | Flags.END,
      appProtoId: AppProtoId.ECHO,
      tenantId: TENANT,
      corrId,
      payload: encodeStartPayload({}, Buffer.from("ping")),
    }),
  );
  expect((await raw.waitFor(isResp(corrId)))?.code).toBe(200);
}

describe.each(ENGINES)("mailbox SUBSCRIBE on the wire (%s engine)", (engine) => {
  beforeEach(() => {
    engineOverrides =
      engine === "redis"
        ? {
            mailboxEngine: "redis",
            mailboxRedisUrl: (redis as RedisProcess).url,
            mailboxRedisKeyPrefix: `subscribe-${randomUUID()}:`,
          }
        : { mailboxEngine: engine };
  });

  it("pushes each message as one EVENT|START|END under the subscription's corr_id: delivery meta, exact body, APP_E2E when the send had it", async () => {
    const { client, raw } = await setup();
    const plain = Buffer.from([0, 1, 2, 0xfe, 0xff]);
    const sealed = Buffer.from([9, 8, 7, 0, 6]);
    const first = await client.mailbox.send("wire", plain, { attrs: { from: "ann" } });
    const second = await client.mailbox.send("wire", sealed, { e2e: true });

    subscribe(raw, 11n, { topic: "wire", credit: 5, visibility_ms: 60_000 });
    const head = await subscribed(raw, 11n);
    expect(head.flags & (Flags.START | Flags.END)).toBe(Flags.START);
    expect(head.meta).toMatchObject({ subscribed: true, ack: "explicit", credit: 5, visibility_ms: 60_000 });
    expect(head.body.byteLength).toBe(0);

    const [a, b] = await waitEvents(raw, 11n, 2);
    expect(a?.flags).toBe(EVENT_ONE);
    expect(b?.flags).toBe(EVENT_ONE | Flags.APP_E2E);
    for (const f of [a, b]) expect([f?.appProtoId, f?.tenantId, f?.code]).toEqual([MAILBOX, TENANT, 0]);
    expect(a?.meta).toMatchObject({ msg_id: first.msgId, attempt: 1, topic: "wire", attrs: { from: "ann" } });
    expect(typeof a?.meta?.receipt).toBe("string");
    expect(typeof a?.meta?.sent_at).toBe("number");
    expect(a?.meta?.e2e).toBeUndefined();
    expect(b?.meta).toMatchObject({ msg_id: second.msgId, e2e: true });
    expect(Buffer.from(a?.body ?? []).equals(plain)).toBe(true);
    expect(Buffer.from(b?.body ?? []).equals(sealed)).toBe(true);
    // Only the head went out as RESP so far: the messages are not response body.
    expect(raw.frames.filter(isResp(11n))).toHaveLength(1);

    // The receipts are live leases: an ACK through any connection settles them.
    await client.mailbox.ack(String(a?.meta?.receipt), { topic: "wire" });
    await client.mailbox.ack(String(b?.meta?.receipt), { topic: "wire" });

    // Ending the request side ends the subscription: RESP END, no error.
    endRequest(raw, 11n);
    const end = await raw.waitFor((f) => isResp(11n)(f) && (f.flags & Flags.END) !== 0);
    expect(end?.code).toBe(200);
  });

  it("never pushes more than the credit: credit 3 takes exactly 3 of 6, a grant of 2 exactly 2 more", async () => {
    const { client, raw } = await setup();
    for (let i = 0; i < 6; i++) await client.mailbox.send("credit", `m${i}`);
    subscribe(raw, 21n, { topic: "credit", credit: 3, visibility_ms: 60_000 });
    await subscribed(raw, 21n);
    const pushed = await waitEvents(raw, 21n, 3);
    expect(pushed.map((f) => Buffer.from(f.body).toString())).toEqual(["m0", "m1", "m2"]);
    // The subscription holds no lease beyond its credit: RECV gets the other three.
    const rest = await client.mailbox.recv("credit", { max: 10, visibilityMs: 60_000 });
    expect(rest.map((m) => m.body.toString())).toEqual(["m3", "m4", "m5"]);

    for (let i = 6; i < 9; i++) await client.mailbox.send("credit", `m${i}`);
    grant(raw, 21n, { credit: 2 });
    const more = await waitEvents(raw, 21n, 5);
    expect(more.slice(3).map((f) => Buffer.from(f.body).toString())).toEqual(["m6", "m7"]);
    const last = await client.mailbox.recv("credit", { max: 10, visibilityMs: 60_000 });
    expect(last.map((m) => m.body.toString())).toEqual(["m8"]);
    await roundTrip(raw, 22n);
    expect(events(raw, 21n)).toHaveLength(5);
    expect(raw.frames.filter((f) => f.code >= 400)).toEqual([]);
  });

  it("explicit: a pushed message nobody acks comes back after its visibility; auto: it is acked before the push", async () => {
    const { client, raw } = await setup();
    await client.mailbox.send("explicit", "again");
    await client.mailbox.send("auto", "once");
    subscribe(raw, 31n, { topic: "explicit", ack: "explicit", credit: 1, visibility_ms: 250 });
    subscribe(raw, 32n, { topic: "auto", ack: "auto", credit: 1, visibility_ms: 250 });
    const [explicit] = await waitEvents(raw, 31n, 1);
    const [auto] = await waitEvents(raw, 32n, 1);
    endRequest(raw, 31n);
    endRequest(raw, 32n);
    await raw.waitFor((f) => isResp(31n)(f) && (f.flags & Flags.END) !== 0);
    await raw.waitFor((f) => isResp(32n)(f) && (f.flags & Flags.END) !== 0);

    // The long poll ends when the lease runs out: the same message, its second delivery.
    const [redelivered] = await client.mailbox.recv("explicit", { waitMs: 10_000 });
    expect(redelivered?.msgId).toBe(explicit?.meta?.msg_id);
    expect(redelivered?.attempt).toBe(2);
    await redelivered?.ack();

    const stale = await client.mailbox.ack(String(auto?.meta?.receipt), { topic: "auto" }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(stale).toMatchObject({ code: 410, reason: "stale" });
    expect(await client.mailbox.recv("auto", { max: 10 })).toEqual([]);
  });

  it("refuses bad grants with 400 on the subscription's corr_id and ends it; the connection keeps serving", async () => {
    const { client, raw } = await setup({ mailboxMaxRecv: 10 });
    const cases: Array<[bigint, () => void, string]> = [
      [41n, () => grant(raw, 41n, { credit: 0 }), "bad_meta"],
      [42n, () => grant(raw, 42n, { credit: "2" }), "bad_meta"],
      [43n, () => grant(raw, 43n, { credit: 1.5 }), "bad_meta"],
      [44n, () => grant(raw, 44n, {}), "bad_meta"],
      // The window: credit 4 held, 7 more would hold 11 > mailbox.max_recv = 10.
      [45n, () => grant(raw, 45n, { credit: 7 }), "bad_meta"],
      [46n, () => grant(raw, 46n, { credit: 1 }, GRANT, Buffer.from("x")), "bad_meta"],
      [47n, () => grant(raw, 47n, { credit: 1 }, EVENT_ONE), "unsupported"],
      [48n, () => grant(raw, 48n, { credit: 1 }, Flags.EVENT | Flags.ACK_REQ | Flags.START), "unsupported"],
      // The request side carries no body (grants are EVENT frames).
      [49n, () => endRequest(raw, 49n, Buffer.from([0, 0, 0, 2, 123, 125])), "bad_meta"],
    ];
    for (const [corrId, send, reason] of cases) {
      subscribe(raw, corrId, { topic: `bad-${corrId}`, credit: 4 });
      await subscribed(raw, corrId);
      send();
      const error = await errorOn(raw, corrId);
      expect([corrId, error?.code, error?.meta?.reason]).toEqual([corrId, 400, reason]);
      // It ends the subscription: a RESP END without START (the head went out before).
      expect((error?.flags ?? 0) & (Flags.START | Flags.END)).toBe(Flags.END);
    }
    await roundTrip(raw, 50n);
    // Nothing is subscribed any more: a message for one of those topics waits for a RECV.
    await client.mailbox.send("bad-41", "still here");
    expect((await client.mailbox.recv("bad-41")).map((m) => m.body.toString())).toEqual(["still here"]);
    expect(raw.closed).toBe(false);
  });

  it("ignores a well-formed grant that names no subscription and refuses a malformed one", async () => {
    const { raw } = await setup();
    grant(raw, 61n, { credit: 3 });
    grant(raw, 62n, { credit: -1 });
    await roundTrip(raw, 63n);
    expect(raw.frames.filter((f) => f.corrId === 61n)).toEqual([]);
    const refused = await errorOn(raw, 62n);
    expect([refused?.code, refused?.meta?.reason]).toEqual([400, "bad_meta"]);
    // An echo subscription does not exist: echo still takes no events.
    raw.write(
      encodeFrame({
        flags: GRANT,
        appProtoId: AppProtoId.ECHO,
        tenantId: TENANT,
        corrId: 64n,
        payload: encodeStartPayload({ credit: 1 }),
      }),
    );
    expect((await errorOn(raw, 64n))?.meta?.reason).toBe("unsupported");
  });

  it("a grant under another tenant does not reach the subscription", async () => {
    const { client, raw } = await setup();
    for (let i = 0; i < 2; i++) await client.mailbox.send("tenants", `m${i}`);
    subscribe(raw, 71n, { topic: "tenants", credit: 1, visibility_ms: 60_000 });
    await waitEvents(raw, 71n, 1);
    raw.write(
      encodeFrame({
        flags: GRANT,
        appProtoId: MAILBOX,
        tenantId: TENANT + 1n,
        corrId: 71n,
        payload: encodeStartPayload({ credit: 1 }),
      }),
    );
    await roundTrip(raw, 72n);
    expect((await client.mailbox.recv("tenants")).map((m) => m.body.toString())).toEqual(["m1"]);
    expect(events(raw, 71n)).toHaveLength(1);
  });

  it("a closed connection leaves nothing leased beyond what was pushed, and its subscriptions lease nothing more", async () => {
    const { node, client, raw } = await setup();
    for (let i = 0; i < 5; i++) await client.mailbox.send("closing", `m${i}`);
    subscribe(raw, 81n, { topic: "closing", credit: 2, visibility_ms: 250 });
    subscribe(raw, 82n, { topic: "idle", credit: 3 });
    await waitEvents(raw, 81n, 2);
    await subscribed(raw, 82n);
    const before = node.admission().connections;
    raw.close();
    await eventually(() => node.admission().connections === before - 1);

    // The idle subscription's long poll ended with its connection: a new message is free.
    await client.mailbox.send("idle", "free");
    expect((await client.mailbox.recv("idle")).map((m) => m.body.toString())).toEqual(["free"]);
    // Never-pushed messages are there at once; the two pushed ones after their visibility.
    const now = await client.mailbox.recv("closing", { max: 10, visibilityMs: 60_000 });
    expect(now.map((m) => m.body.toString())).toEqual(["m2", "m3", "m4"]);
    const back: string[] = [];
    while (back.length < 2) {
      const got = await client.mailbox.recv("closing", { max: 10, waitMs: 10_000 });
      expect(got.length).toBeGreaterThan(0);
      for (const m of got) {
        expect(m.attempt).toBe(2);
        back.push(m.body.toString());
      }
    }
    expect(back.sort()).toEqual(["m0", "m1"]);
  });
});
