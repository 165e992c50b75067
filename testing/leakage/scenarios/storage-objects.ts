/**
 * Which stored object a user opens: four images a chat has shared (96–310 KiB, content
 * addressed, fetched whole with a storage GET). The same object is always the same bytes,
 * so only the defences can blur what its size and chunk count say.
 */
import { randomBytes } from "node:crypto";
import type { StorageAddress } from "@omnigate/sdk";
import { packetsBetween } from "../packets-between.js";
import type { LeakageRig } from "../rig.js";
import { finishSession, type Scenario, type SessionResult, sleep, windowTailMs } from "./scenario.js";

const SIZES: Record<string, number> = {
  "image-a": 96 * 1024,
  "image-b": 141 * 1024,
  "image-c": 203 * 1024,
  "image-d": 310 * 1024,
};

const addresses = new Map<string, StorageAddress>();

export const storageObjects: Scenario = {
  name: "storage-object",
  secret: "which of four shared images (96–310 KiB) the user opens",
  classes: Object.keys(SIZES),
  async prepare(rig: LeakageRig) {
    const client = await rig.direct();
    try {
      for (const [name, size] of Object.entries(SIZES)) {
        const stored = await client.storage.put(randomBytes(size));
        addresses.set(name, stored.addr);
      }
    } finally {
      await client.close();
    }
  },
  async session(rig, { shaping, labels, sessionId }): Promise<SessionResult> {
    const { client, wire } = await rig.observed(shaping);
    try {
      const tail = windowTailMs(shaping);
      const traces = [];
      const latenciesMs = [];
      const sessionStart = performance.now();
      for (const label of labels) {
        const address = addresses.get(label);
        if (!address) throw new Error(`the storage scenario was not prepared (${label})`);
        const start = performance.now();
        await client.storage.getBytes(address);
        const end = performance.now();
        latenciesMs.push(end - start);
        await sleep(tail);
        traces.push({ label, session: sessionId, packets: packetsBetween(wire, start, end + tail) });
      }
      return finishSession(wire, sessionStart, traces, latenciesMs);
    } finally {
      await client.close();
    }
  },
};
