import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import type { StorageAddress } from "@omnigate/sdk";
import { afterEach, describe, expect, it } from "vitest";
import { startNodeProcess } from "../support/node-process.js";
import { sampleValue, scrape } from "../support/prometheus-text.js";
import { TestScope } from "../support/scope.js";
import { drain, KiB, MiB, randomStream, storageClient } from "./support.js";

const scope = new TestScope();
afterEach(() => scope.close());

/** Peak of the process's buffer memory while `work` runs, sampled every few ms. */
async function peakArrayBuffers<T>(work: Promise<T>): Promise<{ result: T; peak: number }> {
  let peak = process.memoryUsage().arrayBuffers;
  let done = false;
  const sampler = (async () => {
    while (!done) {
      peak = Math.max(peak, process.memoryUsage().arrayBuffers);
      await sleep(5);
    }
  })();
  try {
    return { result: await work, peak };
  } finally {
    done = true;
    await sampler;
  }
}

describe("large objects", () => {
  it("round-trips 200 MiB streamed, never holding the object in memory (client and node in this process)", async () => {
    const size = 200 * MiB;
    const node = await scope.node();
    const client = await storageClient(scope, node);
    const source = randomStream(size);
    const put = await peakArrayBuffers(client.storage.put(source.chunks, { size, deadlineMs: 240_000 }));
    expect(put.result).toEqual({ addr: source.addr(), size, created: true });
    const got = await peakArrayBuffers(drain(client.storage.get(put.result.addr, { deadlineMs: 240_000 })));
    // drain() hashes what arrived; the SDK verified it against the address as well.
    expect(got.result).toEqual({ bytes: size, addr: put.result.addr });
    // Buffers in this process (client, node and garbage not yet collected) stay far below
    // the object's size: both sides stream.
    expect(put.peak).toBeLessThan(size / 2);
    expect(got.peak).toBeLessThan(size / 2);
  }, 240_000);
});

describe("slow readers", () => {
  it("8 stalled GETs of 64 MiB objects leave the node's memory bounded and resume when read", async () => {
    const node = await startNodeProcess([]);
    scope.defer(() => node.stop());
    const size = 64 * MiB;
    const readers = 8;
    const writer = await storageClient(scope, node);
    const addrs: StorageAddress[] = [];
    for (let i = 0; i < readers; i++) {
      const source = randomStream(size);
      addrs.push((await writer.storage.put(source.chunks, { size, deadlineMs: 120_000 })).addr);
    }
    await writer.close();
    // Settle the node after the uploads, then measure from there.
    await sleep(500);
    const rssBefore = currentRssBytes(node.pid);

    // Each reader on its own connection, reading one chunk and then nothing.
    const clients = await Promise.all(
      addrs.map(() => storageClient(scope, node, 1n, { maxBufferedBytes: 256 * KiB })),
    );
    const gets = clients.map((client, i) =>
      client.storage.get(addrs[i] as StorageAddress, { deadlineMs: 120_000 }),
    );
    const iterators = gets.map((get) => get[Symbol.asyncIterator]());
    for (const iterator of iterators) await iterator.next();
    // Let the node push what the sockets take, until it must wait for the readers.
    let sent = -1;
    for (let stable = 0; stable < 5; ) {
      await sleep(200);
      const now = sampleValue(await scrape(node.adminUrl), "storage_bytes_out_total") ?? 0;
      stable = now === sent ? stable + 1 : 0;
      sent = now;
    }
    const rssStalled = currentRssBytes(node.pid);
    // The node stopped reading from disk far short of the objects (kernel socket buffers and
    // the client's bound hold the rest), and its memory did not grow with them.
    expect(sent).toBeLessThan((readers * size) / 2);
    expect(rssStalled - rssBefore).toBeLessThan(32 * MiB);

    // Reading on: every stream completes and verifies.
    const rest = await Promise.all(
      iterators.map(async (iterator) => {
        let bytes = 0;
        for (let r = await iterator.next(); !r.done; r = await iterator.next()) bytes += r.value.byteLength;
        return bytes;
      }),
    );
    for (const bytes of rest) expect(bytes).toBe(size - 64 * KiB);
    expect(node.peakRssBytes() - rssBefore).toBeLessThan(64 * MiB);
  }, 180_000);
});

function currentRssBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!match) throw new Error("no VmRSS");
  return Number(match[1]) * 1024;
}
