import { OapError } from "@omnigate/oap";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../src/mailbox/clock.js";
import type { Delivery, EngineRules, MailboxEngine } from "../../src/mailbox/engine.js";

export interface EngineUnderTest {
  engine: MailboxEngine;
  /** Closes the engine and opens it again from its storage (engines that keep nothing omit it). */
  reopen?: () => Promise<MailboxEngine>;
  cleanup(): Promise<void>;
}

export type EngineFactory = (rules: EngineRules, clock: ManualClock) => Promise<EngineUnderTest>;

export const SUITE_RULES: EngineRules = { maxAttempts: 3, dedupeWindowMs: 300_000, maxDepthPerTenant: 50 };

const T1 = "0000000000000000000000000000000a";
const T2 = "0000000000000000000000000000000b";
const body = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (d: Delivery): string => new TextDecoder().decode(d.body);

/** Lets queued engine work (group commit, I/O) run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

async function refusal(promise: Promise<unknown>): Promise<OapError> {
  const error = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(OapError);
  return error as OapError;
}

/** One suite of the mailbox rules (docs/mailbox.md), run against every engine. */
export function mailboxEngineSuite(name: string, factory: EngineFactory, durable: boolean): void {
  describe(`mailbox engine: ${name}`, () => {
    let clock: ManualClock;
    let subject: EngineUnderTest;
    let engine: MailboxEngine;
    const recv = (topic: string, max = 10, visibilityMs = 1000, tenant = T1) =>
      engine.recv({ tenant, topic, max, visibilityMs, waitMs: 0 });

    beforeEach(async () => {
      clock = new ManualClock();
      subject = await factory(SUITE_RULES, clock);
      engine = subject.engine;
    });
    afterEach(async () => {
      await subject.cleanup();
    });

    it("delivers what was sent with msg_id, a receipt, attempt 1, sent_at, attrs and the exact body", async () => {
      const bytes = new Uint8Array([0, 255, 1, 254, 10, 13]);
      const sent = await engine.send({ tenant: T1, topic: "a", body: bytes, attrs: { kind: "x" } });
      expect(sent.duplicate).toBe(false);
      expect(sent.msgId).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
      const [got, ...rest] = await recv("a");
      expect(rest).toEqual([]);
      expect(got?.msgId).toBe(sent.msgId);
      expect(got?.attempt).toBe(1);
      expect(got?.sentAt).toBe(clock.now());
      expect(got?.attrs).toEqual({ kind: "x" });
      expect(Buffer.from(got?.body ?? []).equals(Buffer.from(bytes))).toBe(true);
      expect(got?.topic).toBe("a");
    });

    it("keeps a leased message invisible, then redelivers it with attempt + 1 and a new receipt", async () => {
      await engine.send({ tenant: T1, topic: "a", body: body("m") });
      const [first] = await recv("a", 10, 1000);
      expect(await recv("a")).toEqual([]);
      clock.advance(999);
      expect(await recv("a")).toEqual([]);
      clock.advance(1);
      const [second] = await recv("a");
      expect(second?.msgId).toBe(first?.msgId);
      expect(second?.attempt).toBe(2);
      expect(second?.receipt).not.toBe(first?.receipt);
    });

    it("refuses the receipt of an expired lease with 410 stale, so only the new delivery can ack", async () => {
      await engine.send({ tenant: T1, topic: "a", body: body("m") });
      const [first] = await recv("a", 10, 1000);
      clock.advance(1000);
      const [second] = await recv("a");
      for (const op of [
        engine.ack({ tenant: T1, receipt: first?.receipt ?? "" }),
        engine.nack({ tenant: T1, receipt: first?.receipt ?? "" }, 0),
        engine.extend({ tenant: T1, receipt: first?.receipt ?? "" }, 5000),
      ]) {
        const err = await refusal(op);
        expect([err.code, err.reason]).toEqual([410, "stale"]);
      }
      await engine.ack({ tenant: T1, receipt: second?.receipt ?? "" });
      clock.advance(60_000);
      expect(await recv("a")).toEqual([]);
      // The message is gone: its last receipt is stale too.
      expect((await refusal(engine.ack({ tenant: T1, receipt: second?.receipt ?? "" }))).reason).toBe(
        "stale",
      );
    });

    it("refuses an expired lease's receipt even before anyone received the message again", async () => {
      await engine.send({ tenant: T1, topic: "a", body: body("m") });
      const [first] = await recv("a", 10, 1000);
      clock.advance(1000);
      expect((await refusal(engine.ack({ tenant: T1, receipt: first?.receipt ?? "" }))).reason).toBe("stale");
    });

    it("answers a receipt it never issued with 400 bad_meta", async () => {
      const err = await refusal(engine.ack({ tenant: T1, receipt: "not-a-receipt" }));
      expect([err.code, err.reason]).toEqual([400, "bad_meta"]);
    });

    it("never delivers an acked message again", async () => {
      await engine.send({ tenant: T1, topic: "a", body: body("m") });
      const [got] = await recv("a", 10, 1000);
      await engine.ack({ tenant: T1, receipt: got?.receipt ?? "" });
      clock.advance(10_000);
      expect(await recv("a")).toEqual([]);
      expect(await engine.depth()).toEqual({ ready: 0, inflight: 0, delayed: 0, dlq: 0 });
    });

    it("NACK makes the message visible again after delay_ms (at once without a delay)", async () => {
      await engine.send({ tenant: T1, topic: "a", body: body("m") });
      const [first] = await recv("a", 10, 30_000);
      await engine.nack({ tenant: T1, receipt: first?.receipt ?? "" }, 0);
      const [second] = await recv("a", 10, 30_000);
      expect(second?.attempt).toBe(2);
      await engine.nack({ tenant: T1, receipt: second?.receipt ?? "" }, 5000);
      expect(await engine.depth()).toMatchObject({ delayed: 1, ready: 0 });
      clock.advance(4999);
      expect(await recv("a")).toEqual([]);
      clock.advance(1);
      const [third] = await recv("a");
      expect(third?.attempt).toBe(3);
      // The NACKed receipt is spent.
      expect((await refusal(engine.ack({ tenant: T1, receipt: first?.receipt ?? "" }))).reason).toBe("stale");
    });

    it("EXTEND moves the lease's end to visibility_ms from now", async () => {
      await engine.send({ tenant: T1, topic: "a", body: body("m") });
      const [got] = await recv("a", 10, 1000);
      clock.advance(900);
      await engine.extend({ tenant: T1, receipt: got?.receipt ?? "" }, 5000);
      clock.advance(4000);
      expect(await recv("a")).toEqual([]);
      expect(await engine.depth()).toMatchObject({ inflight: 1 });
      await engine.ack({ tenant: T1, receipt: got?.receipt ?? "" });
      expect(await engine.depth()).toEqual({ ready: 0, inflight: 0, delayed: 0, dlq: 0 });
    });

    it("dead-letters after max_attempts deliveries with the last error; lists, redrives and purges", async () => {
      const { msgId } = await engine.send({ tenant: T1, topic: "a", body: body("poison") });
      await engine.send({ tenant: T1, topic: "other", body: body("x") });
      // Attempts 1 and 2 end in a lease expiry and a NACK; attempt 3 (the last) in a NACK with an error.
      await recv("a", 1, 1000);
      clock.advance(1000);
      const [second] = await recv("a", 1, 1000);
      await engine.nack({ tenant: T1, receipt: second?.receipt ?? "" }, 0);
      const [third] = await recv("a", 1, 1000);
      expect(third?.attempt).toBe(3);
      await engine.nack({ tenant: T1, receipt: third?.receipt ?? "" }, 0, "cannot parse");
      expect(await recv("a")).toEqual([]);
      expect(await engine.depth()).toMatchObject({ dlq: 1 });
      const [dead] = await engine.dlqList(T1, "a", 10);
      expect(dead).toMatchObject({ msgId, topic: "a", attempts: 3, lastError: "cannot parse" });
      expect(text({ body: dead?.body } as Delivery)).toBe("poison");
      expect(await engine.dlqList(T1, "other", 10)).toEqual([]);
      expect(await engine.dlqList(T2, "a", 10)).toEqual([]);

      expect(await engine.dlqRedrive(T1, "a", 10)).toBe(1);
      const [again] = await recv("a", 1, 1000);
      expect(again?.msgId).toBe(msgId);
      expect(again?.attempt).toBe(1);

      // A lease that runs out on the last attempt dead-letters too, with the expiry as its error.
      clock.advance(1000);
      await recv("a", 1, 1000);
      clock.advance(1000);
      await recv("a", 1, 1000);
      clock.advance(1000);
      expect(await recv("a")).toEqual([]);
      const [expired] = await engine.dlqList(T1, "a", 10);
      expect(expired?.lastError).toBe("visibility timeout expired");
      expect(await engine.dlqPurge(T1, "a")).toBe(1);
      expect(await engine.dlqList(T1, "a", 10)).toEqual([]);
      expect(await engine.depth()).toEqual({ ready: 1, inflight: 0, delayed: 0, dlq: 0 });
    });

    it("redrives at most `max` dead letters, oldest first", async () => {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        ids.push((await engine.send({ tenant: T1, topic: "a", body: body(`m${i}`) })).msgId);
      }
      for (let attempt = 0; attempt < 3; attempt++) {
        for (const d of await recv("a", 10, 1000))
          await engine.nack({ tenant: T1, receipt: d.receipt }, 0, "no");
      }
      expect((await engine.dlqList(T1, "a", 10)).map((d) => d.msgId)).toEqual(ids);
      expect(await engine.dlqRedrive(T1, "a", 2)).toBe(2);
      expect((await recv("a")).map((d) => d.msgId)).toEqual(ids.slice(0, 2));
      expect((await engine.dlqList(T1, "a", 10)).map((d) => d.msgId)).toEqual([ids[2]]);
    });

    it("dedupes a key within the window, even after ack and delete; 409 conflict for another body", async () => {
      const first = await engine.send({ tenant: T1, topic: "a", body: body("one"), idemKey: "k1" });
      const again = await engine.send({ tenant: T1, topic: "a", body: body("one"), idemKey: "k1" });
      expect(again).toEqual({ msgId: first.msgId, duplicate: true });
      const conflict = await refusal(
        engine.send({ tenant: T1, topic: "a", body: body("two"), idemKey: "k1" }),
      );
      expect([conflict.code, conflict.reason]).toEqual([409, "conflict"]);

      const [got, ...more] = await recv("a");
      expect(more).toEqual([]);
      await engine.ack({ tenant: T1, receipt: got?.receipt ?? "" });
      expect(await engine.send({ tenant: T1, topic: "a", body: body("one"), idemKey: "k1" })).toEqual({
        msgId: first.msgId,
        duplicate: true,
      });

      const second = await engine.send({ tenant: T1, topic: "a", body: body("x"), idemKey: "k2" });
      expect(await engine.delete(T1, second.msgId)).toBe(true);
      expect(await engine.send({ tenant: T1, topic: "a", body: body("x"), idemKey: "k2" })).toEqual({
        msgId: second.msgId,
        duplicate: true,
      });
      expect(await recv("a")).toEqual([]);

      // The key is scoped to (tenant, topic) and lasts the window only.
      expect(
        (await engine.send({ tenant: T1, topic: "b", body: body("one"), idemKey: "k1" })).duplicate,
      ).toBe(false);
      expect(
        (await engine.send({ tenant: T2, topic: "a", body: body("one"), idemKey: "k1" })).duplicate,
      ).toBe(false);
      clock.advance(SUITE_RULES.dedupeWindowMs);
      const after = await engine.send({ tenant: T1, topic: "a", body: body("new"), idemKey: "k1" });
      expect(after.duplicate).toBe(false);
      expect(after.msgId).not.toBe(first.msgId);
    });

    it("delivers in send order, except that a redelivery takes its original place in line", async () => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++)
        ids.push((await engine.send({ tenant: T1, topic: "a", body: body(`${i}`) })).msgId);
      expect(ids).toEqual([...ids].sort());
      const firstTwo = await recv("a", 2, 1000);
      expect(firstTwo.map((d) => d.msgId)).toEqual(ids.slice(0, 2));
      await engine.nack({ tenant: T1, receipt: firstTwo[1]?.receipt ?? "" }, 0);
      const next = await recv("a", 10, 1000);
      expect(next.map((d) => d.msgId)).toEqual([ids[1], ids[2], ids[3], ids[4]]);
      expect(next.map((d) => d.attempt)).toEqual([2, 1, 1, 1]);
    });

    it("RECV returns at most `max` messages", async () => {
      for (let i = 0; i < 5; i++) await engine.send({ tenant: T1, topic: "a", body: body(`${i}`) });
      expect(await recv("a", 3)).toHaveLength(3);
      expect(await recv("a", 3)).toHaveLength(2);
    });

    it("wakes a long poll when a message arrives, and ends it empty at wait_ms", async () => {
      const waiting = engine.recv({ tenant: T1, topic: "a", max: 10, visibilityMs: 1000, waitMs: 20_000 });
      await settle();
      await engine.send({ tenant: T1, topic: "other", body: body("not this one") });
      await engine.send({ tenant: T2, topic: "a", body: body("nor this") });
      await engine.send({ tenant: T1, topic: "a", body: body("this") });
      const got = await waiting;
      expect(got.map(text)).toEqual(["this"]);
      await engine.ack({ tenant: T1, receipt: got[0]?.receipt ?? "" });

      const empty = engine.recv({ tenant: T1, topic: "a", max: 10, visibilityMs: 1000, waitMs: 5000 });
      await settle();
      clock.advance(5000);
      expect(await empty).toEqual([]);
    });

    it("wakes a long poll when a lease expires or a NACK delay ends within wait_ms", async () => {
      await engine.send({ tenant: T1, topic: "a", body: body("m") });
      await recv("a", 1, 1000);
      const waiting = engine.recv({ tenant: T1, topic: "a", max: 10, visibilityMs: 1000, waitMs: 20_000 });
      await settle();
      clock.advance(1000);
      const [again] = await waiting;
      expect(again?.attempt).toBe(2);
      await engine.nack({ tenant: T1, receipt: again?.receipt ?? "" }, 3000);
      const delayed = engine.recv({ tenant: T1, topic: "a", max: 10, visibilityMs: 1000, waitMs: 20_000 });
      await settle();
      clock.advance(3000);
      expect((await delayed).map((d) => d.attempt)).toEqual([3]);
    });

    it("ends a long poll when its signal aborts", async () => {
      const abort = new AbortController();
      const waiting = engine.recv({
        tenant: T1,
        topic: "a",
        max: 10,
        visibilityMs: 1000,
        waitMs: 60_000,
        signal: abort.signal,
      });
      await settle();
      abort.abort();
      expect(await waiting).toEqual([]);
    });

    it("DELETE removes a message waiting, leased or dead-lettered; false when there is none", async () => {
      const waiting = await engine.send({ tenant: T1, topic: "a", body: body("w") });
      expect(await engine.delete(T1, waiting.msgId)).toBe(true);
      expect(await engine.delete(T1, waiting.msgId)).toBe(false);
      const leased = await engine.send({ tenant: T1, topic: "a", body: body("l") });
      const [got] = await recv("a", 1, 1000);
      expect(await engine.delete(T1, leased.msgId)).toBe(true);
      expect((await refusal(engine.ack({ tenant: T1, receipt: got?.receipt ?? "" }))).reason).toBe("stale");
      const dead = await engine.send({ tenant: T1, topic: "a", body: body("d") });
      for (let i = 0; i < 3; i++)
        for (const d of await recv("a", 1, 1000))
          await engine.nack({ tenant: T1, receipt: d.receipt }, 0, "x");
      expect(await engine.depth()).toMatchObject({ dlq: 1 });
      expect(await engine.delete(T1, dead.msgId)).toBe(true);
      clock.advance(5000);
      expect(await recv("a")).toEqual([]);
      expect(await engine.depth()).toEqual({ ready: 0, inflight: 0, delayed: 0, dlq: 0 });
    });

    it("refuses a send over the tenant's depth limit with 429 quota, per tenant, until messages leave", async () => {
      for (let i = 0; i < SUITE_RULES.maxDepthPerTenant; i++) {
        await engine.send({ tenant: T1, topic: i % 2 ? "a" : "b", body: body(`${i}`) });
      }
      const err = await refusal(engine.send({ tenant: T1, topic: "c", body: body("over") }));
      expect([err.code, err.reason]).toEqual([429, "quota"]);
      expect(err.retryAfterMs).toBeGreaterThan(0);
      // Another tenant is not affected.
      expect((await engine.send({ tenant: T2, topic: "a", body: body("fine") })).duplicate).toBe(false);
      const [got] = await recv("a", 1);
      await engine.ack({ tenant: T1, receipt: got?.receipt ?? "" });
      expect((await engine.send({ tenant: T1, topic: "c", body: body("fits") })).duplicate).toBe(false);
    });

    it("isolates tenants: another tenant's topic, receipts, msg ids and DLQ are out of reach", async () => {
      const sent = await engine.send({ tenant: T1, topic: "a", body: body("secret") });
      expect(await recv("a", 10, 1000, T2)).toEqual([]);
      const [got] = await recv("a", 10, 1000, T1);
      for (const op of [
        engine.ack({ tenant: T2, receipt: got?.receipt ?? "" }),
        engine.nack({ tenant: T2, receipt: got?.receipt ?? "" }, 0),
        engine.extend({ tenant: T2, receipt: got?.receipt ?? "" }, 1000),
      ]) {
        expect((await refusal(op)).reason).toBe("stale");
      }
      expect(await engine.delete(T2, sent.msgId)).toBe(false);
      await engine.nack({ tenant: T1, receipt: got?.receipt ?? "" }, 0);
      expect(await engine.dlqRedrive(T2, "a", 10)).toBe(0);
      expect(await engine.dlqPurge(T2, "a")).toBe(0);
      expect((await recv("a", 10, 1000, T1)).map(text)).toEqual(["secret"]);
    });

    it("holds a receipt or msg_id to the topic it names: another topic's delivery is stale", async () => {
      const sent = await engine.send({ tenant: T1, topic: "a", body: body("m") });
      const [got] = await recv("a", 10, 1000);
      const wrong = { tenant: T1, receipt: got?.receipt ?? "", topic: "b" };
      for (const op of [engine.ack(wrong), engine.nack(wrong, 0), engine.extend(wrong, 1000)]) {
        expect((await refusal(op)).reason).toBe("stale");
      }
      expect(await engine.delete(T1, sent.msgId, "b")).toBe(false);
      await engine.extend({ tenant: T1, receipt: got?.receipt ?? "", topic: "a" }, 5000);
      await engine.ack({ tenant: T1, receipt: got?.receipt ?? "", topic: "a" });
      const other = await engine.send({ tenant: T1, topic: "a", body: body("n") });
      expect(await engine.delete(T1, other.msgId, "a")).toBe(true);
      expect(await recv("a")).toEqual([]);
    });

    it("keeps the APP_E2E mark of a message for each delivery and its dead letter", async () => {
      await engine.send({ tenant: T1, topic: "a", body: body("sealed"), e2e: true });
      await engine.send({ tenant: T1, topic: "a", body: body("plain") });
      const got = await recv("a", 10, 1000);
      expect(got.map((d) => [text(d), d.e2e])).toEqual([
        ["sealed", true],
        ["plain", false],
      ]);
      for (let attempt = 1; attempt < SUITE_RULES.maxAttempts; attempt++) {
        clock.advance(1000);
        await recv("a", 10, 1000);
      }
      clock.advance(1000);
      expect(await recv("a")).toEqual([]);
      const dead = await engine.dlqList(T1, "a", 10);
      expect(dead.map((d) => [new TextDecoder().decode(d.body), d.e2e])).toEqual([
        ["sealed", true],
        ["plain", false],
      ]);
    });

    it("reports depth by state: ready, inflight, delayed, dlq", async () => {
      for (let i = 0; i < 4; i++) await engine.send({ tenant: T1, topic: "a", body: body(`${i}`) });
      const [a, b, c] = await recv("a", 3, 1000);
      await engine.nack({ tenant: T1, receipt: a?.receipt ?? "" }, 10_000);
      expect(await engine.depth()).toEqual({ ready: 1, inflight: 2, delayed: 1, dlq: 0 });
      await engine.ack({ tenant: T1, receipt: b?.receipt ?? "" });
      clock.advance(1000);
      expect(c).toBeDefined();
      expect(await engine.depth()).toEqual({ ready: 2, inflight: 0, delayed: 1, dlq: 0 });
    });

    // Engines that keep state beyond the process (not the memory engine).
    const itDurable = durable ? it : () => {};
    itDurable("keeps accepted messages, leases and dedupe keys across a reopen", async () => {
      if (!subject.reopen) throw new Error("a durable engine must offer reopen()");
      const kept = await engine.send({ tenant: T1, topic: "a", body: body("kept"), idemKey: "k" });
      await engine.send({ tenant: T1, topic: "a", body: body("leased") });
      const [first] = await recv("a", 2, 1000);
      expect(first && text(first)).toBe("kept");
      engine = await subject.reopen();
      expect((await engine.send({ tenant: T1, topic: "a", body: body("kept"), idemKey: "k" })).msgId).toBe(
        kept.msgId,
      );
      await engine.ack({ tenant: T1, receipt: first?.receipt ?? "" });
      clock.advance(1000);
      expect((await recv("a")).map((d) => [text(d), d.attempt])).toEqual([["leased", 2]]);
    });
  });
}
