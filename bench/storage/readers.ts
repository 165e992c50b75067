import { Agent, get } from "node:https";
import type { OapClient, StorageAddress } from "@omnigate/sdk";

/** One read of one object: when its first body byte arrived and when it ended (ms from the start). */
export interface ReadTiming {
  bytes: number;
  firstByteMs: number;
  totalMs: number;
}

/** A reader of whole objects by name: the HTTPS baseline or the node. */
export interface ObjectReader {
  read(name: string): Promise<ReadTiming>;
  close(): Promise<void>;
}

/** Reads over node:https from the baseline server, on one kept-alive socket. */
export function httpsReader(port: number, ca: string): ObjectReader {
  const agent = new Agent({ keepAlive: true, maxSockets: 1, ca });
  return {
    read: (name) =>
      new Promise((resolve, reject) => {
        const started = performance.now();
        let firstByteMs = -1;
        let bytes = 0;
        const req = get(
          { host: "127.0.0.1", port, path: `/${name}`, agent, servername: "localhost" },
          (res) => {
            if (res.statusCode !== 200) reject(new Error(`https GET /${name}: ${res.statusCode}`));
            res.on("data", (chunk: Buffer) => {
              if (firstByteMs < 0) firstByteMs = performance.now() - started;
              bytes += chunk.byteLength;
            });
            res.on("end", () => resolve({ bytes, firstByteMs, totalMs: performance.now() - started }));
            res.on("error", reject);
          },
        );
        req.on("error", reject);
      }),
    close: async () => agent.destroy(),
  };
}

/**
 * How the node is read: `whole` = `client.storage.get(addr)`, which the node verifies against
 * the address as it reads from disk and the SDK verifies again as it arrives; `range` = a `0-`
 * range, which neither verifies (the same bytes, as HTTPS serves them); `chunks` = a
 * chunk-verified GET, each 64 KiB group proven against the address by the SDK before use.
 */
export type OapReadMode = "whole" | "range" | "chunks";

/** Reads through the SDK from the node, in one of the three modes. */
export function oapReader(
  client: OapClient,
  addrs: Map<string, StorageAddress>,
  mode: OapReadMode,
): ObjectReader {
  const options = mode === "range" ? { range: "0-" } : mode === "chunks" ? { verify: "chunks" as const } : {};
  return {
    async read(name) {
      const addr = addrs.get(name);
      if (!addr) throw new Error(`no object ${name}`);
      const started = performance.now();
      let firstByteMs = -1;
      let bytes = 0;
      const reader = client.storage.get(addr, { deadlineMs: 300_000, ...options });
      for await (const chunk of reader) {
        if (firstByteMs < 0) firstByteMs = performance.now() - started;
        bytes += chunk.byteLength;
      }
      return { bytes, firstByteMs, totalMs: performance.now() - started };
    },
    close: () => client.close(),
  };
}
