import { join } from "node:path";
import { OapError } from "@omnigate/oap";
import { afterAll, describe, expect, it } from "vitest";
import { seededRandom as prng } from "../../../../testing/support/seeded-random.js";
import { tempDir } from "../../../../testing/support/temp-dir.js";
import { ManualClock } from "../../src/mailbox/clock.js";
import type { Delivery, EngineRules } from "../../src/mailbox/engine.js";
import { SqlEngine } from "../../src/mailbox/sqlite-engine.js";
import { MailboxModel } from "./sim-model.js";

/**
 * A deterministic, seeded simulation of the engine: random interleavings of send, recv, ack,
 * nack, extend, delete, redrive, clock jumps (lease expiry) and crashes (the engine is dropped
 * with work queued and reopened from its file), every answer compared with the rules' model,
 * then a drain that checks every accepted message was delivered and none after its ack.
 *
 * Seeds: MAILBOX_SIM_SEED=n replays one seed; MAILBOX_SIM_SEEDS (default 1000) seeds from
 * MAILBOX_SIM_BASE (default: random, printed with any failure).
 */
const RULES: EngineRules = { maxAttempts: 3, dedupeWindowMs: 2000, maxDepthPerTenant: 12 };
const TENANT = "00000000000000000000000000000001";
const TOPICS = ["a", "b"];
const STEPS = 60;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

async function runSeed(seed: number, dir: string): Promise<void> {
  const random = prng(seed);
  const int = (lo: number, hi: number): number => lo + Math.floor(random() * (hi - lo + 1));
  const pick = <T>(items: readonly T[]): T | undefined => items[Math.floor(random() * items.length)];
  const clock = new ManualClock();
  const path = join(dir, `sim-${seed}.sqlite`);
  const open = (): SqlEngine => new SqlEngine({ ...RULES, path, clock, synchronous: "normal" });
  let engine = open();
  const model = new MailboxModel(RULES.maxAttempts, RULES.dedupeWindowMs, RULES.maxDepthPerTenant);
  const receipts: string[] = [];
  const accepted: string[] = [];
  const deliveredEver = new Set<string>();
  const receiptsSeen = new Set<string>();
  const log: string[] = [];
  const fail = (what: string): never => {
    throw new Error(
      `seed ${seed}: ${what}\n  replay: MAILBOX_SIM_SEED=${seed}\n  steps:\n    ${log.slice(-15).join("\n    ")}`,
    );
  };
  const reasonOf = (err: unknown): string =>
    err instanceof OapError ? err.reason : `not an OapError: ${String(err)}`;

  const checkDeliveries = (
    topic: string,
    got: Delivery[],
    expected: ReturnType<MailboxModel["recv"]>,
  ): void => {
    const ids = got.map((d) => d.msgId);
    const want = expected.map((m) => m.msgId);
    if (JSON.stringify(ids) !== JSON.stringify(want))
      fail(`recv ${topic} gave ${ids} but the rules say ${want}`);
    got.forEach((d, i) => {
      const m = expected[i];
      if (!m) return;
      if (d.attempt !== m.attempt)
        fail(`${d.msgId} delivered with attempt ${d.attempt}, expected ${m.attempt}`);
      if (decoder.decode(d.body) !== m.body) fail(`${d.msgId} body changed`);
      if (receiptsSeen.has(d.receipt)) fail(`receipt ${d.receipt} issued twice`);
      receiptsSeen.add(d.receipt);
      receipts.push(d.receipt);
      deliveredEver.add(d.msgId);
      model.leased(d);
    });
  };

  /** One operation: returns a check to run once it settled (in call order). */
  interface Issued {
    pending: Promise<unknown>;
    check: (outcome: PromiseSettledResult<unknown>) => void;
  }
  type Step = () => Issued;
  const nothing: Issued = { pending: Promise.resolve(), check: () => {} };
  const ops: Array<[number, Step]> = [
    [
      5,
      () => {
        const topic = pick(TOPICS) ?? "a";
        const idemKey = random() < 0.5 ? `k${int(0, 4)}` : undefined;
        const body = random() < 0.15 ? `other-${int(0, 1e6)}` : `body-${topic}-${idemKey ?? int(0, 1e9)}`;
        const now = clock.now();
        log.push(`send ${topic} key=${idemKey}`);
        const sent = engine.send({ tenant: TENANT, topic, body: encoder.encode(body), idemKey });
        return {
          pending: sent,
          check: (outcome) => {
            const expected = model.expectSend(topic, body, idemKey, now);
            if (expected === "conflict" || expected === "quota") {
              if (outcome.status !== "rejected" || reasonOf(outcome.reason) !== expected)
                fail(`send should be ${expected}`);
              return;
            }
            if (outcome.status === "rejected") return fail(`send refused: ${reasonOf(outcome.reason)}`);
            const result = outcome.value as { msgId: string; duplicate: boolean };
            if (expected === "new") {
              if (result.duplicate) fail("a new send was called a duplicate");
              model.accept(result.msgId, topic, body, idemKey, now);
              accepted.push(result.msgId);
            } else if (!result.duplicate || result.msgId !== expected) {
              fail(`duplicate send gave ${JSON.stringify(result)}, expected ${expected}`);
            }
          },
        };
      },
    ],
    [
      4,
      () => {
        const topic = pick(TOPICS) ?? "a";
        const max = int(1, 3);
        const visibilityMs = int(100, 2000);
        log.push(`recv ${topic} max=${max} vis=${visibilityMs}`);
        const got = engine.recv({ tenant: TENANT, topic, max, visibilityMs, waitMs: 0 });
        return {
          pending: got,
          check: (outcome) => {
            const expected = model.recv(topic, max, visibilityMs, clock.now());
            if (outcome.status === "rejected") return fail(`recv refused: ${reasonOf(outcome.reason)}`);
            checkDeliveries(topic, outcome.value as Delivery[], expected);
          },
        };
      },
    ],
    ...(["ack", "nack", "extend"] as const).map((kind): [number, Step] => [
      kind === "ack" ? 4 : 2,
      () => {
        const receipt = pick(receipts);
        if (!receipt) return nothing;
        const now = clock.now();
        log.push(`${kind} ${receipt}`);
        const delay = int(0, 500);
        const visibility = int(100, 2000);
        const call =
          kind === "ack"
            ? engine.ack({ tenant: TENANT, receipt: receipt })
            : kind === "nack"
              ? engine.nack({ tenant: TENANT, receipt: receipt }, delay, "sim")
              : engine.extend({ tenant: TENANT, receipt: receipt }, visibility);
        return {
          pending: call,
          check: (outcome) => {
            const live = model.live(receipt, now);
            if (live) {
              if (kind === "ack") model.ack(live);
              else if (kind === "nack") model.nack(live, delay, "sim", now);
              else live.visibleAt = now + visibility;
            }
            if (live && outcome.status === "rejected")
              fail(`${kind} of a live lease refused: ${reasonOf(outcome.reason)}`);
            if (!live && (outcome.status !== "rejected" || reasonOf(outcome.reason) !== "stale")) {
              fail(`${kind} of a dead lease was not refused as stale`);
            }
          },
        };
      },
    ]),
    [
      1,
      () => {
        const msgId = pick(accepted);
        if (!msgId) return nothing;
        log.push(`delete ${msgId}`);
        const call = engine.delete(TENANT, msgId);
        return {
          pending: call,
          check: (outcome) => {
            const expected = model.delete(msgId);
            if (outcome.status === "rejected" || outcome.value !== expected)
              fail(`delete ${msgId} should be ${expected}`);
          },
        };
      },
    ],
    [
      1,
      () => {
        const topic = pick(TOPICS) ?? "a";
        const max = int(1, 3);
        log.push(`redrive ${topic} max=${max}`);
        const call = engine.dlqRedrive(TENANT, topic, max);
        return {
          pending: call,
          check: (outcome) => {
            const expected = model.redrive(topic, max, clock.now());
            if (outcome.status === "rejected" || outcome.value !== expected)
              fail(`redrive should move ${expected}`);
          },
        };
      },
    ],
  ];
  const totalWeight = ops.reduce((sum, [w]) => sum + w, 0);
  const randomOp = (): Step => {
    let r = random() * totalWeight;
    for (const [w, op] of ops) {
      r -= w;
      if (r < 0) return op;
    }
    return (ops[0] as [number, Step])[1];
  };

  try {
    for (let step = 0; step < STEPS; step++) {
      const roll = random();
      if (roll < 0.12) {
        const ms = int(0, 1500);
        log.push(`advance ${ms}`);
        clock.advance(ms);
        continue;
      }
      if (roll < 0.17) {
        // A crash with work queued: none of it happened; committed state survives the reopen.
        const queued = [engine.send({ tenant: TENANT, topic: "a", body: encoder.encode("lost") })];
        if (pick(receipts))
          queued.push(
            engine
              .ack({ tenant: TENANT, receipt: pick(receipts) ?? "" })
              .then(() => ({ msgId: "", duplicate: false })),
          );
        log.push("crash + reopen");
        engine.crash();
        for (const outcome of await Promise.allSettled(queued)) {
          if (outcome.status !== "rejected") fail("work queued at a crash was reported done");
        }
        engine = open();
        continue;
      }
      // One to four operations issued together: they share a group commit, in call order.
      const issued = Array.from({ length: int(1, 4) }, () => randomOp()());
      const outcomes = await Promise.allSettled(issued.map((i) => i.pending));
      for (const [n, i] of issued.entries()) i.check(outcomes[n] as PromiseSettledResult<unknown>);
      if (random() < 0.1) {
        const depth = await engine.depth();
        const want = model.depthByState(clock.now());
        if (JSON.stringify(depth) !== JSON.stringify(want)) {
          fail(`depth ${JSON.stringify(depth)}, the rules say ${JSON.stringify(want)}`);
        }
      }
    }

    // Drain: past every lease, redrive every dead letter, receive and ack all. Every accepted
    // message not acked or deleted must come out, and none that was.
    const outstanding = [...model.messages.values()].filter((m) => m.state !== "gone").map((m) => m.msgId);
    const leftAfterAck = new Set(outstanding);
    clock.advance(10_000);
    for (let round = 0; round < 50 && leftAfterAck.size > 0; round++) {
      for (const topic of TOPICS) {
        model.redrive(topic, 1000, clock.now());
        await engine.dlqRedrive(TENANT, topic, 1000);
        const expected = model.recv(topic, 10, 60_000, clock.now());
        const got = await engine.recv({ tenant: TENANT, topic, max: 10, visibilityMs: 60_000, waitMs: 0 });
        checkDeliveries(topic, got, expected);
        for (const d of got) {
          if (!leftAfterAck.delete(d.msgId)) fail(`${d.msgId} delivered after it was acked or deleted`);
          await engine.ack({ tenant: TENANT, receipt: d.receipt });
          model.ack(expected.find((m) => m.msgId === d.msgId) ?? fail("unknown delivery"));
        }
      }
    }
    if (leftAfterAck.size > 0) fail(`accepted but never delivered: ${[...leftAfterAck]}`);
    for (const id of accepted) if (!deliveredEver.has(id) && outstanding.includes(id)) fail(`${id} lost`);
    const depth = await engine.depth();
    if (JSON.stringify(depth) !== JSON.stringify({ ready: 0, inflight: 0, delayed: 0, dlq: 0 })) {
      fail(`after the drain the engine still holds ${JSON.stringify(depth)}`);
    }
  } finally {
    engine.crash();
  }
}

describe("mailbox engine simulation (seeded)", () => {
  const dir = tempDir("omnigate-mailbox-sim-");
  afterAll(() => dir.remove());
  const replay = process.env.MAILBOX_SIM_SEED;
  const count = Number(process.env.MAILBOX_SIM_SEEDS ?? 1000);
  const base = Number(process.env.MAILBOX_SIM_BASE ?? Math.floor(Math.random() * 1e9));
  const seeds = replay !== undefined ? [Number(replay)] : Array.from({ length: count }, (_, i) => base + i);

  it(`keeps every rule over ${seeds.length} seeds (base ${seeds[0]})`, { timeout: 600_000 }, async () => {
    for (const seed of seeds) await runSeed(seed, dir.path);
    expect(seeds.length).toBeGreaterThan(0);
  });
});
