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
interface Vectors {
  limits: { max_frame: number; max_inflight: number; max_cap_len: number };
  valid: Vector[];
  invalid: Vector[];
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
