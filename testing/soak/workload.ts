/**
 * The soak workload's scheduler: open-loop arrivals (Poisson, seeded) of a mix of operations
 * through the SDK, spread over a few clients, plus the one mailbox subscription and the
 * capability revocation timer. Every call is tracked until it settles and counted once
 * (calls.ts); the ops themselves are in op-*.ts and subscription.ts, their payloads in
 * payloads.ts.
 *
 * | op              | what                                                             | uses    | in              |
 * | --------------- | ---------------------------------------------------------------- | ------- | --------------- |
 * | echo            | node's echo (0x0101), 16–1024 random bytes, reply compared       | —       | op-echo.ts      |
 * | app             | the echo backend (0x1001) through the node, reply compared       | backend | op-echo.ts      |
 * | mailbox.send    | SEND to soak/queue or soak/sub, body derived from a sequence no. | redis   | op-mailbox.ts   |
 * | mailbox.recv    | RECV of up to 8 from soak/queue (no wait), bodies checked        | redis   | op-mailbox.ts   |
 * | mailbox.ack     | ACK of each message a RECV returned                              | redis   | op-mailbox.ts   |
 * | mailbox.sub_ack | ACK of each message the subscription on soak/sub pushed          | redis   | subscription.ts |
 * | storage.put     | PUT of one of 512 seeded objects (256 B–32 KiB)                  | —       | op-storage.ts   |
 * | storage.get     | GET of an object put before, bytes compared                      | —       | op-storage.ts   |
 * | cap.revoke      | admin API revocation of every live token (timer, not arrivals)   | —       | workload.ts     |
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { OapClient } from "@omnigate/sdk";
import { type CallFn, CallTracker, type OpContext } from "./calls.js";
import type { CapMinter } from "./caps.js";
import type { FaultLog } from "./faults.js";
import { BACKEND_APP, ECHO_APP, echoOp } from "./op-echo.js";
import { MailboxOps } from "./op-mailbox.js";
import { StorageOps } from "./op-storage.js";
import { Subscription, type SubscriptionEvent } from "./subscription.js";
import type { Tally } from "./tally.js";

const MIX: readonly [string, number][] = [
  ["echo", 30],
  ["app", 20],
  ["mailbox.send", 18],
  ["mailbox.recv", 8],
  ["storage.put", 10],
  ["storage.get", 14],
];
const MIX_TOTAL = MIX.reduce((s, [, w]) => s + w, 0);

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
  /** A call not settled by deadline + this is counted hung by the watchdog (see calls.ts). */
  hangGraceMs: number;
  /** Revoke every live capability this often (0 = never). */
  capRevokeEveryMs: number;
}

export class Workload implements OpContext {
  private next = 0;
  private readonly calls: CallTracker;
  private readonly mailbox: MailboxOps;
  private readonly storage: StorageOps;
  private readonly subscription: Subscription;
  /** Bodies that came back wrong (echo, app, mailbox, storage): integrity failures. */
  mismatches = 0;

  constructor(private readonly o: WorkloadOptions) {
    this.calls = new CallTracker(o);
    this.mailbox = new MailboxOps(this);
    this.storage = new StorageOps(this);
    this.subscription = new Subscription(this, o.now);
  }

  get seed(): number {
    return this.o.seed;
  }
  get deadlineMs(): number {
    return this.o.deadlineMs;
  }
  random(): number {
    return this.o.random();
  }
  /** Calls open now. */
  get outstanding(): number {
    return this.calls.outstanding;
  }
  /** Messages the subscription pushed. */
  get subDelivered(): number {
    return this.subscription.delivered;
  }
  get subEvents(): readonly SubscriptionEvent[] {
    return this.subscription.events;
  }
  /** Stream calls (storage) resent once after a 401 for a capability the harness revoked. */
  get capResends(): number {
    return this.storage.resends;
  }

  track(op: string, fn: CallFn): void {
    this.calls.track(op, fn);
  }

  mismatch(message: string): Error {
    this.mismatches++;
    const err = new Error(message);
    err.name = "body_mismatch";
    return err;
  }

  /** Runs arrivals, the subscription and the revocation timer until `signal` aborts, then waits for calls to end. */
  async run(signal: AbortSignal): Promise<void> {
    const subscription = this.subscription.run(this.o.clients[0], signal);
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
    await this.calls.drain();
  }

  private client(): OapClient {
    const c = this.o.clients[this.next++ % this.o.clients.length];
    if (!c) throw new Error("no clients");
    return c;
  }

  private launch(): void {
    if (this.calls.outstanding >= this.o.maxOutstanding) {
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
    if (op === "storage.get" && this.storage.empty) op = "storage.put";
    const client = this.client();
    switch (op) {
      case "echo":
        this.track(op, () => echoOp(this, client, ECHO_APP));
        break;
      case "app":
        this.track(op, () => echoOp(this, client, BACKEND_APP));
        break;
      case "mailbox.send":
        this.track(op, () => this.mailbox.send(client));
        break;
      case "mailbox.recv":
        this.track(op, () => this.mailbox.recv(client));
        break;
      case "storage.put":
        this.track(op, (call) => this.storage.put(client, call));
        break;
      case "storage.get":
        this.track(op, (call) => this.storage.get(client, call));
        break;
    }
  }

  /** Every capRevokeEveryMs, the admin API revokes every live token of the clients (tracked as `cap.revoke`). */
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
