/**
 * Which stored object a user opens: four images a chat has shared (96–310 KiB, content
 * addressed, fetched whole with a storage GET). The same object is always the same bytes,
 * so only the defences can blur what its size and chunk count say.
 */
import { randomBytes } from "node:crypto";
import type { StorageAddress } from "@omnigate/sdk";
import type { LeakageRig } from "../rig.js";
import { type Scenario, type SessionResult, timedActions, windowTailMs } from "./scenario.js";

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
      return await timedActions(wire, { labels, sessionId, tailMs: tail }, (label) => {
        const address = addresses.get(label);
        if (!address) throw new Error(`the storage scenario was not prepared (${label})`);
        return client.storage.getBytes(address);
      });
    } finally {
      await client.close();
    }
  },
};
