import { describe, expect, it } from "vitest";
import {
  encodeFrame,
  encodeStartPayload,
  Flags,
  FrameDecoder,
  type FrameHeader,
  HEADER_LEN,
  OAP_VERSION,
  readFrameHeadFrom,
  readHeader,
  writeHeaderTo,
} from "../src/internal.js";

// Headers are read and written through a DataView over the bytes (the decoder makes one per
// received chunk, the writer one per arena). These tests hold both to the wire layout of
// specs/oap-1.md §3, written out byte by byte below, for views that start anywhere in their
// buffer and for tenants and corr_ids of every width.

const TENANTS = [0n, 1n, 0xffff_ffffn, 0x1_0000_0000n, 2n ** 64n + 3n, 2n ** 96n + 7n, 2n ** 128n - 1n];
const CORR_IDS = [0n, 1n, 0xffff_ffffn, 0x1_0000_0000n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 64n - 1n];

/** A header's fields apart from the version, which the writers always set to 1. */
type Fields = Omit<FrameHeader, "ver">;

/** The 38 header bytes, big-endian, one field after the other: the oracle. */
function expectedBytes(f: Fields): number[] {
  const be = (value: bigint, bytes: number) =>
    Array.from({ length: bytes }, (_, i) => Number((value >> BigInt(8 * (bytes - 1 - i))) & 0xffn));
  return [
    ...be(BigInt(f.len), 4),
    ...be(BigInt(OAP_VERSION), 2),
    ...be(BigInt(f.flags), 2),
    ...be(BigInt(f.code), 2),
    ...be(BigInt(f.appProtoId), 2),
    ...be(f.tenantId, 16),
    ...be(BigInt(f.capLen), 2),
    ...be(f.corrId, 8),
  ];
}

function randomFields(random: () => number, tenantId: bigint, corrId: bigint): Fields {
  return {
    len: HEADER_LEN + Math.floor(random() * 0xffff_0000),
    flags: Math.floor(random() * 0x10000),
    code: Math.floor(random() * 0x10000),
    appProtoId: Math.floor(random() * 0x10000),
    tenantId,
    capLen: Math.floor(random() * 0x10000),
    corrId,
  };
}

/** A small deterministic generator, so a failure names the same fields again. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

describe("header coding through a DataView", () => {
  it("writes the wire layout at any offset of a view that starts inside its buffer", () => {
    const random = seeded(7);
    for (const tenantId of TENANTS) {
      for (const corrId of CORR_IDS) {
        const fields = randomFields(random, tenantId, corrId);
        const backing = new Uint8Array(200).fill(0xff);
        const view = new DataView(backing.buffer, 13, 150);
        const at = 1 + Math.floor(random() * 60);
        const corrKey = corrId <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(corrId) : -1;
        for (const key of [corrKey, -1]) {
          writeHeaderTo(
            view,
            at,
            fields.len,
            fields.flags,
            fields.code,
            fields.appProtoId,
            fields.tenantId,
            fields.capLen,
            fields.corrId,
            key,
          );
          const start = 13 + at;
          expect(Array.from(backing.subarray(start, start + HEADER_LEN))).toEqual(expectedBytes(fields));
          // Nothing around the header was touched.
          expect(backing[start - 1]).toBe(0xff);
          expect(backing[start + HEADER_LEN]).toBe(0xff);
        }
      }
    }
  });

  it("reads back every field, with corrKey the corr_id as a number below 2^53 and -1 from there", () => {
    const random = seeded(11);
    for (const tenantId of TENANTS) {
      for (const corrId of CORR_IDS) {
        const fields = randomFields(random, tenantId, corrId);
        const backing = new Uint8Array(120);
        backing.set(expectedBytes(fields), 29);
        const head = readFrameHeadFrom(new DataView(backing.buffer, 9), 20);
        expect(head).toMatchObject({ ...fields, ver: OAP_VERSION });
        expect(head.corrKey).toBe(corrId < 2n ** 53n ? Number(corrId) : -1);
        expect(readHeader(backing.subarray(29))).toMatchObject({ ...fields, ver: OAP_VERSION });
      }
    }
  });

  it("decodes frames from a Buffer that starts inside a larger allocation, whole and split", () => {
    const frames = TENANTS.map((tenantId, i) =>
      encodeFrame({
        flags: Flags.REQ | Flags.START | Flags.END,
        appProtoId: 0x0101,
        tenantId,
        corrId: CORR_IDS[i] as bigint,
        payload: encodeStartPayload({ i }, Buffer.alloc(i * 10, i)),
      }),
    );
    const wire = Buffer.concat(frames);
    // Both halves are views at an odd offset into a larger buffer, as socket reads can be.
    const backing = Buffer.alloc(wire.length + 64);
    wire.copy(backing, 33);
    const cut = Math.floor(wire.length / 2) + 3;
    const decoder = new FrameDecoder();
    const got = [
      ...decoder.push(backing.subarray(33, 33 + cut)),
      ...decoder.push(backing.subarray(33 + cut, 33 + wire.length)),
    ];
    expect(got.map((f) => [f.tenantId, f.corrId])).toEqual(TENANTS.map((t, i) => [t, CORR_IDS[i]]));
    got.forEach((frame, i) => {
      expect(Buffer.from(frame.payload)).toEqual(Buffer.from((frames[i] as Uint8Array).subarray(HEADER_LEN)));
    });
  });
});
