import { encodeFrame, encodeStartPayload, Flags } from "@omnigate/oap";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type NodeProcess, startNodeProcess } from "../support/node-process.js";
import { peakRssBytes, resetPeakRss, rssBytes } from "../support/proc-stats.js";
import { RawOapConnection } from "../support/raw-oap.js";
import { rleBomb } from "./zstd-frames.js";

/**
 * The acceptance bound of the bounded inflater, measured on a node in its own process: a zstd
 * bomb that expands to 512 MiB from 16 KiB is refused with 413 before the node's RSS grows by
 * more than 16 MiB.
 */
const RSS_BOUND = 16 * 1024 * 1024;
const ECHO = 0x0101;

let node: NodeProcess;

beforeAll(async () => {
  node = await startNodeProcess([]);
}, 60_000);

afterAll(async () => {
  await node?.stop();
});

function compRequest(corrId: bigint, body: Uint8Array): Uint8Array {
  return encodeFrame({
    flags: Flags.REQ | Flags.START | Flags.END | Flags.COMP,
    appProtoId: ECHO,
    corrId,
    payload: encodeStartPayload({}, body),
  });
}

describe("a 512 MiB zstd bomb against a node process", () => {
  it("is refused with 413 while the node's RSS grows by less than 16 MiB", async () => {
    const conn = await RawOapConnection.open(node.oapUrl, node.caPem);
    try {
      // Warm up every path the bomb takes (TLS, session, inflater, error frame) so the measure is the bomb's.
      conn.write(compRequest(1n, rleBomb(17, 128 * 1024, 8)));
      expect((await conn.waitFor((f) => f.corrId === 1n))?.meta?.reason).toBe("ratio_cap");

      const bomb = rleBomb(17, 128 * 1024, 4096); // 4096 × 128 KiB = 512 MiB
      expect(bomb.byteLength).toBeLessThanOrEqual(16 * 1024 + 16);
      const before = rssBytes(node.pid);
      resetPeakRss(node.pid);
      const sentAt = performance.now();
      conn.write(compRequest(2n, bomb));
      const reply = await conn.waitFor((f) => f.corrId === 2n);
      // Reported, not asserted: timings are not test outcomes.
      const tookMs = (performance.now() - sentAt).toFixed(1);
      const grown = peakRssBytes(node.pid) - before;
      process.stderr.write(`bomb: answered ${tookMs} ms after it was written\n`);
      process.stderr.write(
        `bomb: 413 ${reply?.meta?.reason}; peak RSS grew ${(grown / 1024 / 1024).toFixed(2)} MiB\n`,
      );
      expect(reply?.code).toBe(413);
      expect(reply?.meta?.reason).toBe("ratio_cap");
      expect(grown).toBeLessThan(RSS_BOUND);

      // The connection survives a stream error: HELLO still answers on it.
      conn.write(
        encodeFrame({
          flags: Flags.REQ | Flags.START | Flags.END,
          appProtoId: 0,
          corrId: 3n,
          payload: encodeStartPayload({}),
        }),
      );
      expect((await conn.waitFor((f) => f.corrId === 3n))?.code).toBe(200);
    } finally {
      conn.close();
    }
  }, 60_000);

  it("is refused with 413 decompress_cap when only the output cap can stop it", async () => {
    // A ratio cap this loose lets the output cap decide: 512 MiB must stop at 8 MiB.
    const loose = await startNodeProcess(["--comp-max-ratio", "100000"]);
    const conn = await RawOapConnection.open(loose.oapUrl, loose.caPem);
    try {
      conn.write(compRequest(1n, rleBomb(17, 128 * 1024, 8)));
      expect((await conn.waitFor((f) => f.corrId === 1n))?.code).toBe(200);
      const before = rssBytes(loose.pid);
      resetPeakRss(loose.pid);
      conn.write(compRequest(2n, rleBomb(17, 128 * 1024, 4096)));
      const reply = await conn.waitFor((f) => f.corrId === 2n);
      const grown = peakRssBytes(loose.pid) - before;
      process.stderr.write(`bomb (output cap): peak RSS grew ${(grown / 1024 / 1024).toFixed(2)} MiB\n`);
      expect(reply?.code).toBe(413);
      expect(reply?.meta?.reason).toBe("decompress_cap");
      // At most the 8 MiB cap of output is ever held.
      expect(grown).toBeLessThan(RSS_BOUND);
    } finally {
      conn.close();
      await loose.stop();
    }
  }, 60_000);
});
