/**
 * No plaintext reaches the node: a random canary sent through the chat is searched for in
 * every form in the node's data dir (sqlite WAL included), its log, /metrics, /status.json,
 * the backend's log and a heap snapshot of the node process — zero hits. The positive
 * control, a canary sent to the mailbox without APP_E2E, is found by the same search.
 */
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { connect } from "@omnigate/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UserCapIssuer } from "../../apps/vest/src/backend/user-caps.js";
import { VEST_TENANT } from "../../apps/vest/src/node-runner/vest-layout.js";
import { inboxTopic, roomInboxPrefix } from "../../apps/vest/src/shared/protocol.js";
import { filesUnder, type LeakSource, searchCanary } from "./canary-search.js";
import {
  messagesOnScreen,
  openUser,
  sendMessage,
  startVestRig,
  type VestRig,
  waitForCount,
  waitForText,
} from "./support.js";

let rig: VestRig;

beforeAll(async () => {
  // The node writes a heap snapshot into its working directory (the Vest dir) on SIGUSR2.
  rig = await startVestRig({ nodeFlags: ["--heapsnapshot-signal=SIGUSR2"] });
}, 120_000);

afterAll(async () => {
  await rig?.close();
});

async function heapSnapshotOfNode(): Promise<LeakSource> {
  const node = rig.vest.node;
  if (!node) throw new Error("the test started no node of its own");
  const before = new Set(readdirSync(rig.vest.layout.root));
  process.kill(node.pid, "SIGUSR2");
  for (let i = 0; i < 600; i++) {
    await sleep(100);
    const fresh = readdirSync(rig.vest.layout.root).find(
      (f) => f.endsWith(".heapsnapshot") && !before.has(f),
    );
    if (!fresh) continue;
    // V8 writes it on the main thread: once the admin port answers again, the file is whole.
    await fetch(`${rig.vest.adminUrl}/readyz`);
    const path = join(rig.vest.layout.root, fresh);
    if (statSync(path).size > 0) return { name: `heap snapshot ${fresh}`, bytes: readFileSync(path) };
  }
  throw new Error("the node wrote no heap snapshot within 60 s");
}

async function httpSource(path: string): Promise<LeakSource> {
  const res = await fetch(`${rig.vest.adminUrl}${path}`);
  expect(res.ok).toBe(true);
  return { name: path, bytes: Buffer.from(await res.arrayBuffer()) };
}

describe("the node never holds chat plaintext", () => {
  it("finds no trace of an E2E canary anywhere, and finds the control canary sent without APP_E2E", async () => {
    const alice = await openUser(rig, "alice");
    const bob = await openUser(rig, "bob");
    const canary = `canary-${randomBytes(16).toString("hex")}`;
    const control = `control-${randomBytes(16).toString("hex")}`;

    await sendMessage(alice, `the secret is ${canary}, keep it`);
    await waitForText(bob, canary);
    await waitForCount(alice, '#messages li.msg.mine[data-state="delivered"]', 1);
    expect((await messagesOnScreen(bob)).filter((m) => m.text.includes(canary))).toHaveLength(1);

    // The positive control: the same kind of text, sent without APP_E2E (plaintext at the node).
    const issuer = new UserCapIssuer(rig.vest.tenantCap);
    const client = await connect(rig.vest.oapUrl, {
      ca: rig.vest.caPem,
      cap: issuer.send(roomInboxPrefix("lobby"), Math.floor(Date.now() / 1000) + 600),
      tenant: VEST_TENANT,
    });
    try {
      await client.mailbox.send(inboxTopic("lobby", "nobody"), `the control is ${control}, in clear`);
    } finally {
      await client.close();
    }

    const sources: LeakSource[] = [
      ...filesUnder(rig.vest.layout.nodeDataDir),
      { name: "node log", bytes: readFileSync(rig.vest.layout.nodeLog) },
      { name: "backend log", bytes: readFileSync(rig.vest.layout.backendLog) },
      await httpSource("/metrics"),
      await httpSource("/status.json"),
      await heapSnapshotOfNode(),
    ];
    // The search covers the sqlite files, WAL included, and a snapshot of some size.
    const names = sources.map((s) => s.name);
    expect(names.some((n) => n.endsWith("-wal"))).toBe(true);
    expect(sources.find((s) => s.name.startsWith("heap snapshot"))?.bytes.length).toBeGreaterThan(1_000_000);

    expect(searchCanary(canary, sources)).toEqual([]);
    const controlHits = searchCanary(control, sources);
    expect(controlHits.length).toBeGreaterThan(0);
    expect(controlHits.some((hit) => hit.source.includes("mailbox"))).toBe(true);
  }, 180_000);
});
