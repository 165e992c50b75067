import { randomBytes } from "node:crypto";
import { compressBody, encodeFrame, encodeStartPayload, Flags } from "@omnigate/oap";
import { connect, type OapClient } from "@omnigate/sdk";
import { afterEach, describe, expect, it } from "vitest";
import type { OmnigateNode } from "../../packages/node/src/index.js";
import { parseExposition } from "../support/prometheus-text.js";
import { TestScope } from "../support/scope.js";
import { rleBomb } from "./zstd-frames.js";

const ECHO = 0x0101;
const scope = new TestScope();
afterEach(() => scope.close());

async function client(node: OmnigateNode, threshold?: number): Promise<OapClient> {
  const c = await connect(node.oapUrl, { ca: node.caPem, compressThresholdBytes: threshold });
  scope.defer(() => c.close());
  return c;
}

function echoBytesIn(node: OmnigateNode): number {
  return node.metrics.snapshot().apps.find((a) => a.app === "0x0101")?.bytesIn ?? 0;
}

async function scrape(node: OmnigateNode) {
  const text = await (await fetch(`${node.adminUrl}/metrics`)).text();
  return parseExposition(text).samples;
}

describe("COMP between the SDK and a node", () => {
  it("the node's HELLO lists COMP in flags_supported", async () => {
    const node = await scope.node();
    const c = await client(node);
    expect(c.hello.flags_supported & Flags.COMP).toBe(Flags.COMP);
  });

  it("compresses a body at or above the threshold; echo returns it inflated; fewer bytes cross the wire", async () => {
    const node = await scope.node();
    const c = await client(node, 1024);
    // 4 bits of entropy per byte: compresses about 2:1, well inside the default 10:1 ratio cap.
    const body = Buffer.from(randomBytes(200_000).map((b) => 0x41 + (b & 15)));
    const res = await c.request(ECHO, { body });
    expect(Buffer.from(res.body).equals(body)).toBe(true);
    expect(echoBytesIn(node)).toBeLessThan(body.byteLength * 0.75);

    const samples = await scrape(node);
    const count = samples.find((s) => s.name === "decompress_ratio_count");
    expect(count?.value).toBe(1);
  });

  it("sends a body below the threshold as it is, and compress: false never compresses", async () => {
    const node = await scope.node();
    const c = await client(node, 1024);
    await c.request(ECHO, { body: Buffer.alloc(1000, "a") });
    expect(echoBytesIn(node)).toBeGreaterThanOrEqual(1000);
    const before = echoBytesIn(node);
    const big = Buffer.alloc(100_000, "a");
    const res = await c.request(ECHO, { body: big, compress: false });
    expect(Buffer.from(res.body).equals(big)).toBe(true);
    expect(echoBytesIn(node) - before).toBeGreaterThanOrEqual(big.byteLength);
  });

  it("sends plain, in auto mode, a body the node's HELLO caps would refuse compressed; compress: true sends it anyway", async () => {
    const node = await scope.node();
    const c = await client(node, 1024);
    expect(c.hello.limits.comp).toEqual({
      max_output_bytes: 8 * 1024 * 1024,
      max_ratio: 10,
      ratio_grace_bytes: 64 * 1024,
    });
    const zeros = Buffer.alloc(200_000);
    const res = await c.request(ECHO, { body: zeros });
    expect(Buffer.from(res.body).equals(zeros)).toBe(true);
    expect(echoBytesIn(node)).toBeGreaterThanOrEqual(zeros.byteLength);
    await expect(c.request(ECHO, { body: zeros, compress: true })).rejects.toMatchObject({
      code: 413,
      reason: "ratio_cap",
    });
  });

  it("compress: true compresses a small body too", async () => {
    const node = await scope.node();
    const c = await client(node);
    const body = Buffer.alloc(4000, "z");
    const res = await c.request(ECHO, { body, compress: true });
    expect(Buffer.from(res.body).equals(body)).toBe(true);
    expect(echoBytesIn(node)).toBeLessThan(1000);
  });

  it("passes an APP_E2E+COMP body through byte-exact, never inflating it", async () => {
    const node = await scope.node();
    const conn = await scope.raw(node);
    // Valid zstd, so inflating it would change it: the echo must return these exact bytes.
    const packed = compressBody(Buffer.alloc(10_000, "q"));
    conn.write(
      encodeFrame({
        flags: Flags.REQ | Flags.START | Flags.END | Flags.COMP | Flags.APP_E2E,
        appProtoId: ECHO,
        corrId: 5n,
        payload: encodeStartPayload({}, packed),
      }),
    );
    const reply = await conn.waitFor((f) => f.corrId === 5n);
    expect(reply?.code).toBe(200);
    expect(Buffer.from(reply?.body ?? []).equals(Buffer.from(packed))).toBe(true);
    expect(reply?.flags && reply.flags & Flags.APP_E2E).toBe(Flags.APP_E2E);
  });

  it("counts refused bombs in rejected_total and decompress_ratio, and honours configured caps", async () => {
    const node = await scope.node({
      compMaxOutputBytes: 256 * 1024,
      compMaxRatio: 1000,
      compRatioGraceBytes: 0,
    });
    const conn = await scope.raw(node);
    const send = (corrId: bigint, body: Uint8Array) =>
      conn.write(
        encodeFrame({
          flags: Flags.REQ | Flags.START | Flags.END | Flags.COMP,
          appProtoId: ECHO,
          corrId,
          payload: encodeStartPayload({}, body),
        }),
      );
    send(1n, rleBomb(17, 128 * 1024, 4)); // 128 KiB from 22 bytes: over 1000:1
    expect((await conn.waitFor((f) => f.corrId === 1n))?.meta?.reason).toBe("ratio_cap");
    send(2n, compressBody(Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7919) % 251)))); // ratio under 10:1, 300 KB: over the 256 KiB cap
    expect((await conn.waitFor((f) => f.corrId === 2n))?.meta?.reason).toBe("decompress_cap");
    const samples = await scrape(node);
    const rejected = (reason: string) =>
      samples.find((s) => s.name === "rejected_total" && s.labels.reason === reason)?.value;
    expect(rejected("ratio_cap")).toBe(1);
    expect(rejected("decompress_cap")).toBe(1);
    expect(samples.find((s) => s.name === "decompress_ratio_count")?.value).toBe(2);
  });
});
