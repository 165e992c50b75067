import { encodeFrame, encodeStartPayload, Flags } from "@omnigate/oap";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RawOapConnection } from "../../../testing/support/raw-oap.js";
import { startTestNode, type TestNode } from "./support/node.js";
import { startSessionServer } from "./support/session-server.js";

// Replies are written from the stream's corr_id as a number where it is exact (below 2^53) and
// from the BigInt above: every reply frame must carry its request's corr_id either way.

const ONE_FRAME = 0xf0b1;
const STREAMED = 0xf0b2;
const IDS = [1n, 0xffff_ffffn, 2n ** 32n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 64n - 1n];

let t: TestNode;
beforeAll(async () => {
  // Only for its TLS material: the session server presents the node's certificate.
  t = await startTestNode();
});
afterAll(() => t.stop());

describe("ServerSession replies", () => {
  it("carry the request's corr_id on either side of 2^53, from reply() and from start()/write()/end()", async () => {
    const server = await startSessionServer({ cert: t.node.tls.cert, key: t.node.tls.key }, () => ({
      async dispatch(req, res) {
        const chunks: Uint8Array[] = [];
        for await (const chunk of req.body) chunks.push(chunk);
        const body = Buffer.concat(chunks);
        if (req.appProtoId === ONE_FRAME) return res.reply(200, {}, body);
        await res.start(200, {}, body.subarray(0, 1));
        await res.write(body.subarray(1, 2));
        await res.end(body.subarray(2));
      },
    }));
    const conn = await RawOapConnection.open(server.url, t.node.caPem);
    try {
      for (const appProtoId of [ONE_FRAME, STREAMED]) {
        for (const corrId of IDS) {
          conn.write(
            encodeFrame({
              flags: Flags.REQ | Flags.START | Flags.END,
              appProtoId,
              corrId,
              payload: encodeStartPayload({}, Buffer.from(`id ${corrId}`)),
            }),
          );
        }
        for (const corrId of IDS) {
          const last = await conn.waitFor(
            (f) => f.appProtoId === appProtoId && f.corrId === corrId && (f.flags & Flags.END) !== 0,
          );
          expect(last, `the reply to ${corrId} on app ${appProtoId}`).toBeDefined();
          const frames = conn.frames.filter((f) => f.appProtoId === appProtoId && f.corrId === corrId);
          expect(frames.length).toBe(appProtoId === ONE_FRAME ? 1 : 3);
          const body = Buffer.concat(frames.map((f) => f.body)).toString();
          expect(body).toBe(`id ${corrId}`);
          expect(frames.every((f) => f.code === 200 && (f.flags & Flags.RESP) !== 0)).toBe(true);
        }
      }
      // No reply went out under an id nobody asked for (a rounded number would show up here).
      const asked = new Set(IDS);
      expect(conn.frames.filter((f) => !asked.has(f.corrId))).toEqual([]);
    } finally {
      conn.close();
      await server.stop();
    }
  });
});
