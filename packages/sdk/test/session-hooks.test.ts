import { encodeFrame, encodeStartPayload, Flags, OapError } from "@omnigate/oap";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RawOapConnection } from "../../../testing/support/raw-oap.js";
import type { StreamEndInfo } from "../src/internal.js";
import { eventually, startTestNode, type TestNode } from "./support/node.js";
import { startSessionServer } from "./support/session-server.js";

const ANSWERS = 0xf0a1;
const REFUSES = 0xf0a2;

let t: TestNode;
beforeAll(async () => {
  // Only for its TLS material: the session server presents the node's certificate.
  t = await startTestNode();
});
afterAll(() => t.stop());

describe("ServerSession streamEnded", () => {
  it("reports every request once, with its code, reason, bytes on the wire and peer — refusals included", async () => {
    const ended: StreamEndInfo[] = [];
    const rejected: string[] = [];
    const server = await startSessionServer({ cert: t.node.tls.cert, key: t.node.tls.key }, () => ({
      async dispatch(req, res) {
        if (req.appProtoId === REFUSES) throw new OapError("forbidden", "no");
        const chunks: Uint8Array[] = [];
        for await (const chunk of req.body) chunks.push(chunk);
        res.reply(200, { n: chunks.length }, Buffer.concat(chunks));
      },
      streamEnded: (info) => ended.push(info),
      rejected: (err) => rejected.push(err.reason),
    }));
    const conn = await RawOapConnection.open(server.url, t.node.caPem);
    try {
      const sent = new Map<bigint, number>();
      const send = (frame: Uint8Array, corrId: bigint) => {
        sent.set(corrId, (sent.get(corrId) ?? 0) + frame.byteLength);
        conn.write(frame);
      };
      // A request in three frames.
      send(
        encodeFrame({
          flags: Flags.REQ | Flags.START,
          appProtoId: ANSWERS,
          tenantId: 5n,
          corrId: 1n,
          payload: encodeStartPayload({}, Buffer.from("one ")),
        }),
        1n,
      );
      send(
        encodeFrame({
          flags: Flags.REQ,
          appProtoId: ANSWERS,
          tenantId: 5n,
          corrId: 1n,
          payload: Buffer.from("two "),
        }),
        1n,
      );
      send(
        encodeFrame({
          flags: Flags.REQ | Flags.END,
          appProtoId: ANSWERS,
          tenantId: 5n,
          corrId: 1n,
          payload: Buffer.from("three"),
        }),
        1n,
      );
      // Refused by the service, and refused by the session before dispatch (a COMP body that is not zstd).
      send(
        encodeFrame({
          flags: Flags.REQ | Flags.START | Flags.END,
          appProtoId: REFUSES,
          corrId: 2n,
          payload: encodeStartPayload({}),
        }),
        2n,
      );
      send(
        encodeFrame({
          flags: Flags.REQ | Flags.START | Flags.END | Flags.COMP,
          appProtoId: ANSWERS,
          corrId: 3n,
          payload: encodeStartPayload({}, Buffer.from("not zstd")),
        }),
        3n,
      );
      for (const id of [1n, 2n, 3n])
        await conn.waitFor((f) => f.corrId === id && (f.flags & Flags.END) !== 0);
      await eventually(() => ended.length === 3);

      const received = (id: bigint) =>
        conn.frames.filter((f) => f.corrId === id).reduce((n, f) => n + f.len, 0);
      const byId = new Map(ended.map((e) => [e.corrId, e]));
      const peer = `${conn.socket.localAddress}:${conn.socket.localPort}`;
      expect(byId.get(1n)).toMatchObject({
        code: 200,
        reason: undefined,
        refused: false,
        tenantId: 5n,
        peer,
      });
      expect(byId.get(2n)).toMatchObject({ code: 403, reason: "forbidden", refused: false });
      expect(byId.get(3n)).toMatchObject({
        code: 400,
        reason: "bad_compression",
        refused: true,
        bytesOut: 0,
      });
      for (const id of [1n, 2n, 3n]) expect(byId.get(id)?.bytesIn).toBe(sent.get(id));
      for (const id of [1n, 2n]) expect(byId.get(id)?.bytesOut).toBe(received(id));
      expect(rejected.sort()).toEqual(["bad_compression", "forbidden"]);
    } finally {
      conn.close();
      await server.stop();
    }
  });
});
