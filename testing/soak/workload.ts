/**
 * The soak workload: open-loop arrivals (Poisson, seeded) of a mix of operations through the
 * SDK, spread over a few clients, plus one mailbox subscription. Every call is tracked until
 * it settles and counted once in the Tally (see tally.ts for the classes).
 *
 * | op               | what                                                             | uses     |
 * | ---------------- | ---------------------------------------------------------------- | -------- |
 * | echo             | node's echo (0x0101), 16–1024 random bytes, reply compared       | —        |
 * | app              | the echo backend (0x1001) through the node, reply compared       | backend  |
 * | mailbox.send     | SEND to soak/queue or soak/sub, body derived from a sequence no. | redis    |
 * | mailbox.recv     | RECV of up to 8 from soak/queue (no wait), bodies checked        | redis    |
 * | mailbox.ack      | ACK of each message a RECV returned                              | redis    |
 * | mailbox.sub_ack  | ACK of each message the subscription on soak/sub pushed          | redis    |
 * | storage.put      | PUT of one of 512 seeded objects (256 B–32 KiB)                  | —        |
 * | storage.get      | GET of an object put before, bytes compared                      | —        |
 * | cap.revoke       | admin API revocation of every live token (timer, not arrivals)   | —        |
 */
import { createHash, randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { type MailboxMessage, type OapClient, OapRequestError } from "@omnigate/sdk";
import type { CapMinter } from "./caps.js";
import type { Dependency, FaultLog } from "./faults.js";
import { classify, type Outcome, type Tally } from "./tally.js";

export const ECHO_APP = 0x0101;
export const BACKEND_APP = 0x1001;
const QUEUE = "soak/queue";
const SUB = "soak/sub";
const BLOBS = 512;

const MIX: readonly [string, number][] = [
  ["echo", 30],
  ["app", 20],
  ["mailbox.send", 18],
  ["mailbox.recv", 8],
  ["storage.put", 10],
  ["storage.get", 14],
];
const MIX_TOTAL = MIX.reduce((s, [, w]) => s + w, 0);

export const DEPENDENCIES: Record<string, readonly Dependency[]> = {
  echo: [],
  app: ["backend"],
  "mailbox.send": ["redis"],
  "mailbox.recv": ["redis"],
  "mailbox.ack": ["redis"],
  "mailbox.sub_ack": ["redis"],
  "storage.put": [],
  "storage.get": [],
  "cap.revoke": [],
};

export interface WorkloadOptions {
  clients: OapClient[];
  minter: CapMinter;
  tally: Tally;
  faults: FaultLog;
  now: () => number;
  random: () => number;
  seed: number;
  /** Arrivals per second, over all ops. */
  rate: number;
  /** Calls outstanding at most; arrivals beyond it are shed (counted, not sent). */
  maxOutstanding: number;
  /** Deadline of every call (RECV, which does not wait, the same). */
  deadlineMs: number;
  /** A call not settled by deadline + this is counted hung by the watchdog. */
  hangGraceMs: number;
  /** Revoke every live capability this often (0 = never). */
  capRevokeEveryMs: number;
}

export interface SubscriptionEvent {
  at: number;
  reason: string;
}

export class Workload {
  outstanding = 0;
  private next = 0;
  private sendSeq = 0;
  private readonly stored = new Map<number, string>();
  /** Messages the subscription pushed, and when the last one came. */
  subDelivered = 0;
  lastSubDeliveryAt: number | undefined;
  readonly subEvents: SubscriptionEvent[] = [];
  /** Bodies that came back wrong (echo, app, mailbox, storage): integrity failures. */
  mismatches = 0;
  /** Stream calls (storage) resent once after a 401 for a capability the harness revoked. */
  capResends = 0;
  private readonly idle = new Set<Promise<void>>();

  constructor(private readonly o: WorkloadOptions) {}

  /** Runs arrivals, the subscription and the revocation timer until `signal` aborts, then waits for calls to end. */
  async run(signal: AbortSignal): Promise<void> {
    const subscription = this.subscribeLoop(signal);
    const revocations = this.revokeLoop(signal);
    let due = this.o.now();
    while (!signal.aborted) {
      const t = this.o.now();
      while (due <= t) {
        this.launch();
        due += (-Math.log(1 - this.o.random()) * 1000) / this.o.rate;
      }
      await sleep(Math.max(1, Math.min(20, due - this.o.now())));
    }
    await Promise.allSettled([subscription, revocations]);
    // Calls still open: wait for them (acks of the last RECVs start meanwhile), but no longer
    // than a call may take before the watchdog counts it hung.
    const until = this.o.now() + this.o.deadlineMs + this.o.hangGraceMs + 1_000;
    while (this.idle.size > 0 && this.o.now() < until) {
      await Promise.race([Promise.allSettled([...this.idle]), sleep(Math.max(1, until - this.o.now()))]);
    }
  }

  private client(): OapClient {
    const c = this.o.clients[this.next++ % this.o.clients.length];
    if (!c) throw new Error("no clients");
    return c;
  }

  private launch(): void {
    if (this.outstanding >= this.o.maxOutstanding) {
      this.o.tally.shed++;
      return;
    }
    let pick = this.o.random() * MIX_TOTAL;
    let op = "echo";
    for (const [name, weight] of MIX) {
      pick -= weight;
      if (pick < 0) {
        op = name;
        break;
      }
    }
    if (op === "storage.get" && this.stored.size === 0) op = "storage.put";
    const client = this.client();
    switch (op) {
      case "echo":
        this.track(op, () => this.echo(client, ECHO_APP));
        break;
      case "app":
        this.track(op, () => this.echo(client, BACKEND_APP));
        break;
      case "mailbox.send":
        this.track(op, () => this.send(client));
        break;
      case "mailbox.recv":
        this.track(op, () => this.recv(client));
        break;
      case "storage.put":
        this.track(op, () => this.put(client));
        break;
      case "storage.get":
        this.track(op, () => this.get(client));
        break;
    }
  }

  /** Calls `fn`, counts how it ended; the watchdog counts it hung if it has not settled in time. */
  private track(op: string, fn: () => Promise<unknown>): void {
    const start = this.o.now();
    const deps = DEPENDENCIES[op] ?? [];
    this.outstanding++;
    let counted = false;
    const count = (outcome: Outcome, reason?: string) => {
      if (counted) return;
      counted = true;
      const end = this.o.now();
      const inFault = this.o.faults.overlaps(deps, start, end);
      this.o.tally.add(op, outcome, inFault, end, reason);
      if (outcome === "success") this.o.faults.noteSuccess(deps, start, end);
    };
    let watchdogFired = false;
    const watchdog = setTimeout(() => {
      watchdogFired = true;
      count("hung", "no_settle");
    }, this.o.deadlineMs + this.o.hangGraceMs);
    const p: Promise<void> = fn()
      .then(
        () => count("success"),
        (err: unknown) => {
          const c = classify(err);
          count(c.outcome, c.reason);
        },
      )
      .finally(() => {
        if (watchdogFired) this.o.tally.lateSettles++;
        clearTimeout(watchdog);
        this.outstanding--;
        this.idle.delete(p);
      });
    this.idle.add(p);
  }

  private async echo(client: OapClient, app: number): Promise<void> {
    const body = randomBytes(16 + Math.floor(this.o.random() * 1009));
    const reply = await client.request(app, { meta: { soak: true }, body, deadlineMs: this.o.deadlineMs });
    if (!Buffer.from(reply.body).equals(body)) throw this.mismatch("echoed body differs");
  }

  private async send(client: OapClient): Promise<void> {
    const seq = this.sendSeq++;
    const topic = this.o.random() < 0.5 ? QUEUE : SUB;
    await client.mailbox.send(topic, messageBody(this.o.seed, seq), { deadlineMs: this.o.deadlineMs });
  }

  private async recv(client: OapClient): Promise<void> {
    const batch = await client.mailbox.recv(QUEUE, {
      max: 8,
      visibilityMs: 30_000,
      deadlineMs: this.o.deadlineMs,
    });
    let bad = 0;
    for (const msg of batch) {
      if (!validMessage(this.o.seed, msg)) bad++;
      this.track("mailbox.ack", () => msg.ack());
    }
    if (bad > 0) throw this.mismatch(`${bad} received message bodies differ`);
  }

  private async put(client: OapClient): Promise<void> {
    const i = Math.floor(this.o.random() * BLOBS);
    const bytes = blob(this.o.seed, i);
    const result = await this.capResend(client, () =>
      client.storage.put(bytes, { deadlineMs: this.o.deadlineMs }),
    );
    this.stored.set(i, result.addr);
  }

  private async get(client: OapClient): Promise<void> {
    const keys = [...this.stored.keys()];
    const i = keys[Math.floor(this.o.random() * keys.length)] as number;
    const addr = this.stored.get(i) as string;
    const got = await this.capResend(client, () =>
      client.storage.getBytes(addr as `b3:${string}`, { deadlineMs: this.o.deadlineMs }),
    );
    if (!got.equals(blob(this.o.seed, i))) throw this.mismatch("stored object differs");
  }

  /**
   * The SDK refreshes the capability and resends for request(), not for streams. A storage
   * stream refused with 401 because the harness revoked the token is resent once here, after
   * a request (the node's echo) made the client refresh, as an application would.
   */
  private async capResend<T>(client: OapClient, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof OapRequestError) || err.code !== 401) throw err;
      this.capResends++;
      await client.request(ECHO_APP, { body: "", deadlineMs: this.o.deadlineMs });
      return fn();
    }
  }

  private mismatch(message: string): Error {
    this.mismatches++;
    const err = new Error(message);
    err.name = "body_mismatch";
    return err;
  }

  private async subscribeLoop(signal: AbortSignal): Promise<void> {
    const client = this.o.clients[0];
    if (!client) return;
    while (!signal.aborted) {
      try {
        for await (const msg of client.mailbox.subscribe(SUB, { credit: 16, visibilityMs: 30_000, signal })) {
          this.subDelivered++;
          this.lastSubDeliveryAt = this.o.now();
          if (!validMessage(this.o.seed, msg)) this.mismatches++;
          this.track("mailbox.sub_ack", () => msg.ack());
        }
      } catch (err) {
        if (signal.aborted) break;
        const c = classify(err);
        this.subEvents.push({ at: this.o.now(), reason: `${c.outcome} ${c.reason}` });
        await sleep(500);
      }
    }
  }

  private async revokeLoop(signal: AbortSignal): Promise<void> {
    if (this.o.capRevokeEveryMs <= 0) return;
    while (!signal.aborted) {
      try {
        await sleep(this.o.capRevokeEveryMs, undefined, { signal });
      } catch {
        return;
      }
      this.track("cap.revoke", () => this.o.minter.revokeAll());
    }
  }
}

/** A SEND body that says which message it is and can be checked on delivery. */
export function messageBody(seed: number, seq: number): string {
  return `${seq}:${createHash("sha256").update(`${seed}:${seq}`).digest("hex")}`;
}

function validMessage(seed: number, msg: MailboxMessage): boolean {
  const text = Buffer.from(msg.body).toString("utf8");
  const seq = Number(text.split(":")[0]);
  return Number.isSafeInteger(seq) && text === messageBody(seed, seq);
}

/** Storage object i of a run: 256 B–32 KiB of bytes derived from the seed. */
export function blob(seed: number, i: number): Buffer {
  const head = createHash("sha256").update(`blob:${seed}:${i}`).digest();
  const size = 256 + (head.readUInt32BE(0) % (32 * 1024 - 256));
  const parts: Buffer[] = [];
  for (let k = 0, n = 0; n < size; k++) {
    const part = createHash("sha256").update(`${seed}:${i}:${k}`).digest();
    parts.push(part);
    n += part.length;
  }
  return Buffer.concat(parts).subarray(0, size);
}
