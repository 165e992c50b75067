/**
 * What a chat user is doing: sending a message, receiving one (then acking it and sending a
 * read receipt, as the Vest chat does), or nothing. The victim's connection holds a mailbox
 * subscription to its inbox for the whole session, as the Vest page does; a peer on its own
 * (unobserved) connection sends to it. Bodies are Vest-sized envelopes: a 64-byte clear
 * header, a 24-byte nonce, 1 KiB plaintext cells (one for most messages, two for one in five)
 * and a 16-byte tag, sent APP_E2E.
 */
import { randomBytes } from "node:crypto";
import type { OapClient } from "@omnigate/sdk";
import { packetsBetween } from "../packets-between.js";
import type { LeakageRig } from "../rig.js";
import { finishSession, type Scenario, type SessionResult, sleep, windowTailMs } from "./scenario.js";

/** Every action window lasts this long: the observer learns nothing from its length. */
const WINDOW_MS = 600;
/** The action starts this far into its window at most (users do not act on a beat). */
const MAX_OFFSET_MS = 200;
const CELL_BYTES = 1024;

function envelope(random: () => number): Uint8Array {
  const cells = random() < 0.8 ? 1 : 2;
  return randomBytes(64 + 24 + cells * CELL_BYTES + 16);
}

let peer: OapClient | undefined;

export const chat: Scenario = {
  name: "chat-action",
  secret: "what the chat user does in a 600 ms window: typing (sends), receiving, or idle",
  classes: ["typing", "receiving", "idle"],
  async prepare(rig: LeakageRig) {
    peer = await rig.direct();
  },
  async dispose() {
    await peer?.close();
    peer = undefined;
  },
  async session(rig, { shaping, labels, sessionId, random }): Promise<SessionResult> {
    const sender = peer;
    if (!sender) throw new Error("the chat scenario was not prepared");
    const { client, wire } = await rig.observed(shaping);
    // Session ids name defences ("pow2+jitter"): topics allow fewer characters.
    const topic = sessionId.replace(/[^A-Za-z0-9_.~-]/g, "_");
    const inbox = `leak/${topic}/in`;
    const outbox = `leak/${topic}/out`;
    // Each received message resolves the waiter the action left, once its receipt is sent.
    let delivered: (() => void) | undefined;
    const subscription = (async () => {
      for await (const msg of client.mailbox.subscribe(inbox, { credit: 16 })) {
        await msg.ack();
        await client.mailbox.send(outbox, envelope(random), { e2e: true });
        delivered?.();
      }
    })().catch(() => {});
    try {
      // Let the subscription settle before the first window.
      await sleep(200);
      const traces = [];
      const latenciesMs: number[] = [];
      const sessionStart = performance.now();
      for (const label of labels) {
        const start = performance.now();
        await sleep(random() * MAX_OFFSET_MS);
        const actionStart = performance.now();
        if (label === "typing") {
          await client.mailbox.send(outbox, envelope(random), { e2e: true });
          latenciesMs.push(performance.now() - actionStart);
        } else if (label === "receiving") {
          const received = new Promise<void>((resolve) => {
            delivered = resolve;
          });
          await sender.mailbox.send(inbox, envelope(random), { e2e: true });
          await received;
          delivered = undefined;
          latenciesMs.push(performance.now() - actionStart);
        }
        const end = start + WINDOW_MS;
        const left = end - performance.now();
        if (left > 0) await sleep(left);
        traces.push({ label, session: sessionId, packets: packetsBetween(wire, start, end) });
        // A gap between windows, so one action's stragglers do not open the next window.
        await sleep(windowTailMs(shaping));
      }
      return finishSession(wire, sessionStart, traces, latenciesMs);
    } finally {
      await client.close();
      await subscription;
    }
  },
};
