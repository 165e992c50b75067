import { describe, expect, it } from "vitest";
import {
  AppProtoId,
  decodeFrame,
  encodeFrame,
  encodeStartPayload,
  Flags,
  type Frame,
  FrameDecoder,
  HEADER_LEN,
  OAP_VERSION,
  RequestStreamTable,
  readHeader,
  writeHeaderFields,
} from "../src/internal.js";

// Both decoders read each corr_id as a number too (Frame.corrKey), and the stream table and the
// writer use that number instead of converting the BigInt: these tests hold the number and the
// BigInt to naming the same id on every path.

const { REQ, RESP, START, END } = Flags;
const EXACT_IDS = [0n, 1n, 0xffff_ffffn, 0x1_0000_0000n, 0x1234_5678_9abcn, 2n ** 53n - 1n];
const LARGE_IDS = [2n ** 53n, 2n ** 63n + 5n, 2n ** 64n - 1n];

function decoded(corrId: bigint, flags = REQ | START | END): Frame {
  const bytes = encodeFrame({
    flags,
    appProtoId: AppProtoId.ECHO,
    corrId,
    payload: flags & START ? encodeStartPayload({}, Buffer.from("body")) : Buffer.from("more"),
  });
  const frames = new FrameDecoder().push(bytes);
  expect(frames).toHaveLength(1);
  return frames[0] as Frame;
}

describe("the decoders' numeric corr_id", () => {
  it("is the corr_id while it is below 2^53", () => {
    for (const id of EXACT_IDS) {
      for (const frame of [
        decoded(id),
        decodeFrame(encodeFrame({ flags: REQ, appProtoId: 1, corrId: id })),
      ]) {
        expect(frame.corrId).toBe(id);
        expect(frame.corrKey).toBe(Number(id));
      }
    }
  });

  it("is −1 from 2^53 up, where a number would round", () => {
    for (const id of LARGE_IDS) {
      for (const frame of [
        decoded(id),
        decodeFrame(encodeFrame({ flags: REQ, appProtoId: 1, corrId: id })),
      ]) {
        expect(frame.corrId).toBe(id);
        expect(frame.corrKey).toBe(-1);
      }
    }
  });
});

describe("writeHeaderFields with a numeric corr_id", () => {
  function header(corrId: bigint, corrKey?: number, tenantId = 0n): Uint8Array {
    // Dirty bytes first: every field must be written, none left over.
    const buf = new Uint8Array(HEADER_LEN).fill(0xff);
    writeHeaderFields(
      buf,
      0,
      HEADER_LEN,
      RESP | START | END,
      200,
      AppProtoId.ECHO,
      tenantId,
      0,
      corrId,
      corrKey,
    );
    return buf;
  }

  it("writes the same bytes as the BigInt", () => {
    const random = Array.from({ length: 200 }, () =>
      BigInt(Math.floor(Math.random() * Number.MAX_SAFE_INTEGER)),
    );
    for (const id of [...EXACT_IDS, ...random]) {
      expect(header(id, Number(id))).toEqual(header(id));
      expect(readHeader(header(id, Number(id))).corrId).toBe(id);
    }
  });

  it("falls back to the BigInt for −1 and for numbers from 2^53 up (which would be rounded)", () => {
    for (const id of LARGE_IDS) {
      expect(readHeader(header(id, -1)).corrId).toBe(id);
      expect(readHeader(header(id)).corrId).toBe(id);
      expect(readHeader(header(id, Number(id))).corrId).toBe(id);
    }
  });

  it("clears the tenant bytes for tenant 0 and writes any other tenant in full", () => {
    for (const tenantId of [0n, 1n, 2n ** 32n, 2n ** 128n - 1n]) {
      const h = readHeader(header(7n, 7, tenantId));
      expect(h.tenantId).toBe(tenantId);
      expect(h.ver).toBe(OAP_VERSION);
      expect(h.corrId).toBe(7n);
    }
  });
});

describe("the stream table's keys", () => {
  it("finds a stream whether its frames carry the numeric corr_id or only the BigInt", () => {
    for (const id of [...EXACT_IDS, ...LARGE_IDS]) {
      const table = new RequestStreamTable(4);
      // START from the decoder (corrKey set), continuation from decodeFrame (corrKey absent).
      const start = table.classify(decoded(id, REQ | START));
      expect(start.kind).toBe("start");
      // A frame built by hand, without the number.
      const { corrKey: _, ...rest } = decodeFrame(
        encodeFrame({ flags: REQ | END, appProtoId: AppProtoId.ECHO, corrId: id, payload: Buffer.from("x") }),
      );
      const cont = table.classify(rest);
      expect(cont.kind).toBe("continue");
      if (start.kind !== "start" || cont.kind !== "continue") continue;
      expect(cont.stream).toBe(start.stream);
      expect(start.stream.key).toBe(id < 2n ** 53n ? Number(id) : id);
      expect(table.get(id)).toBe(start.stream);

      table.finish(start.stream);
      expect(table.size).toBe(0);
      expect(table.get(id)).toBeUndefined();
      expect(table.classify(decoded(id)).kind).toBe("start");
    }
  });
});
