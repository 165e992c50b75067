import { readFileSync } from "node:fs";
import { encodeFrame, encodeStartPayload, Flags } from "@omnigate/oap";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type OmnigateNode, startNode } from "../../packages/node/src/index.js";
import type { RawFrames, SeenFrame } from "../support/raw-frames.js";
import { RawOapConnection } from "../support/raw-oap.js";
import { RawWssConnection } from "../support/raw-wss.js";
import { tempDir } from "../support/temp-dir.js";

/**
 * Every vector of specs/vectors/oap-1.json written as raw bytes to a running node, over TLS
 * and over WebSocket (one message per frame, specs/oap-1.md §12.1): the reply (code, reason)
 * and whether the connection stays open must match the vector, on both transports.
 */
interface Expect {
  code: number;
  reason: string | null;
  close: boolean;
  corr_id?: string;
  /** Body of the first response frame (an inflated COMP echo). */
  body_hex?: string;
  before?: Array<{ code: number; reason: string; corr_id: string }>;
}
interface Vector {
  name: string;
  hex: string;
  frame?: { corr_id: string };
  socket?: Expect | null;
  expect?: Expect;
}
interface HelloShapingCase {
  name: string;
  request: Record<string, unknown> | null;
  reply: Record<string, unknown> | null;
}
interface Vectors {
  limits: { max_frame: number; max_inflight: number; max_cap_len: number };
  valid: Vector[];
  invalid: Vector[];
  shaping: {
    node_limits: { max_jitter_ms: number; max_cover_hz: number; max_cover_bytes: number };
    hello: HelloShapingCase[];
  };
}

const vectors = JSON.parse(
  readFileSync(new URL("../../specs/vectors/oap-1.json", import.meta.url), "utf8"),
) as Vectors;

let node: OmnigateNode;
const dir = tempDir();

beforeAll(async () => {
  node = await startNode({
    overrides: {
      listen: "127.0.0.1:0",
      wsListen: "127.0.0.1:0",
      admin: "127.0.0.1:0",
      dataDir: dir.path,
      // The vectors describe the frame rules; capabilities are a node policy with tests of their own.
      authMode: "off",
      maxFrame: vectors.limits.max_frame,
      maxInflight: vectors.limits.max_inflight,
      maxCapLen: vectors.limits.max_cap_len,
    },
    logLevel: "silent",
  });
});

afterAll(async () => {
  await node.close();
  dir.remove();
});

const cases = [
  ...vectors.valid.filter((v) => v.socket).map((v) => ({ v, e: v.socket as Expect, corr: v.frame?.corr_id })),
  ...vectors.invalid.map((v) => ({ v, e: v.expect as Expect, corr: v.expect?.corr_id })),
];

const transports = {
  tls: (): Promise<RawFrames> => RawOapConnection.open(node.oapUrl, node.caPem),
  wss: (): Promise<RawFrames> => RawWssConnection.open(node.wsUrl as string, node.caPem),
};

describe.each(Object.entries(transports))("spec vectors over %s", (transport, open) => {
  it("has vectors to run", () => {
    expect(vectors.valid.length).toBeGreaterThanOrEqual(15);
    expect(vectors.invalid.length).toBeGreaterThanOrEqual(15);
  });

  it.each(cases.map((c) => [c.v.name, c] as const))("%s", async (_name, { v, e, corr }) => {
    const conn = await open();
    try {
      conn.write(Buffer.from(v.hex, "hex"));
      const corrId = BigInt(corr ?? "0");
      const reply = await conn.waitFor((f) => f.corrId === corrId && matches(f, e));
      expect(reply, `no ${e.code} reply for corr_id ${corrId}; saw ${summary(conn.frames)}`).toBeDefined();
      expect(reply?.code).toBe(e.code);
      if (e.reason) expect(reply?.meta?.reason).toBe(e.reason);
      if (e.code >= 400) expect(reply?.meta?.message).toEqual(expect.any(String));
      if (e.body_hex !== undefined) expect(Buffer.from(reply?.body ?? []).toString("hex")).toBe(e.body_hex);
      for (const earlier of e.before ?? []) {
        const seen = conn.frames.find((f) => f.corrId === BigInt(earlier.corr_id) && f.code === earlier.code);
        expect(seen?.meta?.reason).toBe(earlier.reason);
      }

      if (e.close) {
        expect(await conn.waitClosed()).toBe(true);
        // Over WebSocket a header error is a protocol error (§12.1).
        if (transport === "wss") expect((conn as RawWssConnection).closeCode).toBe(1002);
      } else {
        // Still open and still serving: HELLO on a fresh corr_id answers 200.
        conn.write(
          encodeFrame({
            flags: Flags.REQ | Flags.START | Flags.END,
            appProtoId: 0,
            corrId: 0xfeedn,
            payload: encodeStartPayload({}),
          }),
        );
        const hello = await conn.waitFor((f) => f.corrId === 0xfeedn);
        // Vectors that fill max_inflight leave their streams open, so HELLO is refused — by a reply.
        const full = [e, ...(e.before ?? [])].some((x) => x.reason === "too_many_streams");
        expect(hello?.code).toBe(full ? 429 : 200);
        expect(conn.closed).toBe(false);
      }
    } finally {
      conn.close();
    }
  });
});

/** HELLO on corr_id 0xfeed with `meta`; resolves with its reply. */
async function hello(conn: RawFrames, meta: Record<string, unknown>): Promise<SeenFrame | undefined> {
  conn.write(
    encodeFrame({
      flags: Flags.REQ | Flags.START | Flags.END,
      appProtoId: 0,
      corrId: 0xfeedn,
      payload: encodeStartPayload(meta),
    }),
  );
  return conn.waitFor((f) => f.corrId === 0xfeedn);
}

describe.each(Object.entries(transports))("shaping vectors over %s (§10.1)", (transport, open) => {
  it("the conformance node runs with the limits the vectors assume", () => {
    const { max_jitter_ms, max_cover_hz, max_cover_bytes } = vectors.shaping.node_limits;
    expect([
      node.config.shapingMaxJitterMs,
      node.config.shapingMaxCoverHz,
      node.config.shapingMaxCoverBytes,
    ]).toEqual([max_jitter_ms, max_cover_hz, max_cover_bytes]);
  });

  const silent = vectors.valid.filter((v) => v.socket === null);
  it.each(silent.map((v) => [v.name, v] as const))("%s draws no answer", async (_name, v) => {
    const conn = await open();
    try {
      conn.write(Buffer.from(v.hex, "hex"));
      expect((await hello(conn, {}))?.code).toBe(200);
      expect(conn.frames.map((f) => f.corrId)).toEqual([0xfeedn]);
      expect(conn.closed).toBe(false);
    } finally {
      conn.close();
    }
  });

  it.each(vectors.shaping.hello.map((h) => [h.name, h] as const))("HELLO %s", async (_name, h) => {
    const conn = await open();
    try {
      const reply = await hello(conn, h.request === null ? {} : { shaping: h.request });
      expect(reply?.code).toBe(200);
      // Shaping needs a byte stream: over WebSocket the node grants none (§12.1).
      expect(reply?.meta?.shaping).toEqual(transport === "tls" ? (h.reply ?? undefined) : undefined);
    } finally {
      conn.close();
    }
  });
});

/** The reply a vector is about: its error frame, or for a success the first response frame. */
function matches(f: SeenFrame, e: Expect): boolean {
  if (e.code >= 400) return f.code === e.code;
  return (f.flags & Flags.RESP) !== 0;
}

function summary(frames: SeenFrame[]): string {
  return JSON.stringify(
    frames.map((f) => ({ corr: String(f.corrId), code: f.code, reason: f.meta?.reason })),
  );
}
