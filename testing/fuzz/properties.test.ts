import {
  CapError,
  type CaveatRule,
  decodeV2,
  encodeV2,
  formatCaveat,
  mintToken,
  parseCaveat,
} from "@omnigate/caps";
import {
  BoundedInflater,
  compressBody,
  decodeFrame,
  decodeStartPayload,
  encodeFrame,
  encodeStartPayload,
  Flags,
  FrameDecoder,
  OapError,
} from "@omnigate/oap";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

/** Property suites for the four parsers hostile input reaches first. */

const kind = fc.constantFrom(Flags.REQ, Flags.RESP, Flags.EVENT);
const extraFlags = fc.subarray([Flags.START, Flags.END, Flags.ACK_REQ, Flags.COMP, Flags.APP_E2E]);
const validFrame = fc
  .record({
    kind,
    extra: extraFlags,
    code: fc.constantFrom(0, 200, 400, 413, 503),
    appProtoId: fc.integer({ min: 0, max: 0xffff }),
    tenantId: fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }),
    corrId: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    cap: fc.uint8Array({ maxLength: 64 }),
    payload: fc.uint8Array({ maxLength: 512 }),
  })
  .map((r) => {
    const flags = r.kind | r.extra.reduce((a, b) => a | b, 0);
    const start = (flags & Flags.START) !== 0;
    return {
      flags,
      code: r.code,
      appProtoId: r.appProtoId,
      tenantId: r.tenantId,
      corrId: r.corrId,
      cap: start ? r.cap : new Uint8Array(0),
      payload: r.payload,
    };
  });

/** Splits bytes at the given (sorted, deduplicated) cut points. */
function chunks(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.byteLength + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let at = 0;
  for (const p of points) {
    out.push(bytes.subarray(at, p));
    at = p;
  }
  out.push(bytes.subarray(at));
  return out;
}

describe("frame decoder properties", () => {
  it("decodes what it encodes, field for field", () => {
    fc.assert(
      fc.property(validFrame, (init) => {
        const f = decodeFrame(encodeFrame(init));
        expect([f.flags, f.code, f.appProtoId, f.tenantId, f.corrId]).toEqual([
          init.flags,
          init.code,
          init.appProtoId,
          init.tenantId,
          init.corrId,
        ]);
        expect(Buffer.from(f.cap).equals(Buffer.from(init.cap))).toBe(true);
        expect(Buffer.from(f.payload).equals(Buffer.from(init.payload))).toBe(true);
      }),
    );
  });

  it("yields the same frames however the byte stream is chunked", () => {
    fc.assert(
      fc.property(
        fc.array(validFrame, { minLength: 1, maxLength: 5 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        (inits, cuts) => {
          const bytes = Buffer.concat(inits.map((i) => encodeFrame(i)));
          const d = new FrameDecoder();
          const frames = chunks(bytes, cuts).flatMap((c) => d.push(c));
          expect(frames.map((f) => f.corrId)).toEqual(inits.map((i) => i.corrId));
          expect(d.buffered).toBe(0);
        },
      ),
    );
  });

  it("refuses arbitrary bytes only with an OapError, never anything else", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          const f = decodeFrame(bytes);
          expect(f.len).toBeLessThanOrEqual(bytes.byteLength);
        } catch (err) {
          expect(err).toBeInstanceOf(OapError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

const jsonValue = fc.jsonValue({ maxDepth: 3 });
const metaObject = fc.dictionary(fc.string({ maxLength: 12 }), jsonValue, { maxKeys: 6 });

describe("meta parser properties", () => {
  it("round-trips any JSON object meta and any body", () => {
    fc.assert(
      fc.property(metaObject, fc.uint8Array({ maxLength: 256 }), (meta, body) => {
        const decoded = decodeStartPayload(encodeStartPayload(meta, body));
        expect(decoded.meta).toEqual(JSON.parse(JSON.stringify(meta)));
        expect(Buffer.from(decoded.body).equals(Buffer.from(body))).toBe(true);
      }),
    );
  });

  it("returns an object or refuses with 400 bad_meta for any payload", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 128 }), (payload) => {
        try {
          const { meta } = decodeStartPayload(payload);
          expect(typeof meta === "object" && meta !== null && !Array.isArray(meta)).toBe(true);
        } catch (err) {
          expect(err).toMatchObject({ reason: "bad_meta", code: 400 });
        }
      }),
      { numRuns: 2000 },
    );
  });
});

const caveatRule: fc.Arbitrary<CaveatRule> = fc.oneof(
  fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }).map((tenant) => ({ kind: "tenant", tenant }) as const),
  fc
    .array(fc.integer({ min: 0, max: 0xffff }), { minLength: 1, maxLength: 8 })
    .map((apps) => ({ kind: "apps", apps }) as const),
  fc
    .array(fc.stringMatching(/^[a-z0-9_.-]{1,20}$/), { minLength: 1, maxLength: 5 })
    .map((ops) => ({ kind: "ops", ops }) as const),
  fc.stringMatching(/^[\x21-\x7e]{1,40}$/).map((prefix) => ({ kind: "topics", prefix }) as const),
  fc.integer({ min: 0, max: 2 ** 40 }).map((at) => ({ kind: "expires", at }) as const),
  fc.integer({ min: 0, max: 2 ** 40 }).map((at) => ({ kind: "not-before", at }) as const),
  fc.integer({ min: 0, max: 2 ** 40 }).map((max) => ({ kind: "rps", max }) as const),
  fc.integer({ min: 0, max: 2 ** 40 }).map((max) => ({ kind: "bytes", max }) as const),
);

describe("capability parser properties", () => {
  it("parses every caveat it formats back to the same rule", () => {
    fc.assert(
      fc.property(caveatRule, (rule) => {
        expect(parseCaveat(formatCaveat(rule))).toEqual(rule);
      }),
    );
  });

  it("refuses any other caveat text with CapError forbidden, never anything else", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (text) => {
        try {
          expect(formatCaveat(parseCaveat(text))).toBe(text);
        } catch (err) {
          expect(err).toBeInstanceOf(CapError);
          expect((err as CapError).reason).toBe("forbidden");
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("decodes a minted token to the same bytes it re-encodes", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }),
        fc.option(fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 1, maxLength: 4 }), {
          nil: undefined,
        }),
        fc.option(fc.integer({ min: 0, max: 2 ** 40 }), { nil: undefined }),
        (tenant, apps, expiresAt) => {
          const token = mintToken({ rootKey: Buffer.alloc(32, 1), keyId: "k", tenant, apps, expiresAt });
          expect(Buffer.from(encodeV2(decodeV2(token))).equals(Buffer.from(token))).toBe(true);
        },
      ),
    );
  });

  it("refuses arbitrary token bytes only with a CapError", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        try {
          decodeV2(bytes);
        } catch (err) {
          expect(err).toBeInstanceOf(CapError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

const LIMITS = { maxOutput: 128 * 1024, maxRatio: 10, ratioGraceBytes: 16 * 1024 };

function inflate(pieces: Uint8Array[]): { out: Buffer; error?: OapError } {
  const inflater = new BoundedInflater(LIMITS);
  const out: Uint8Array[] = [];
  try {
    for (const p of pieces) out.push(...inflater.push(p));
    inflater.finish();
    return { out: Buffer.concat(out) };
  } catch (err) {
    expect(err).toBeInstanceOf(OapError);
    return { out: Buffer.concat(out), error: err as OapError };
  }
}

describe("zstd guard properties", () => {
  it("inflates what compressBody made, however the compressed bytes are chunked", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), fc.array(fc.nat(), { maxLength: 6 }), (body, cuts) => {
        const { out, error } = inflate(chunks(compressBody(body), cuts));
        expect(error).toBeUndefined();
        expect(out.equals(Buffer.from(body))).toBe(true);
      }),
    );
  });

  it("never keeps more than the output cap and refuses only with a canonical reason", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), fc.nat(), (bytes, cut) => {
        const { out, error } = inflate(chunks(bytes, [cut]));
        expect(out.byteLength).toBeLessThanOrEqual(LIMITS.maxOutput);
        if (error) expect(["bad_compression", "decompress_cap", "ratio_cap"]).toContain(error.reason);
      }),
      { numRuns: 2000 },
    );
  });

  it("refuses a highly compressible body past the grace with ratio_cap", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 40 * 1024, max: 120 * 1024 }),
        (byte, size) => {
          const { error } = inflate([compressBody(Buffer.alloc(size, byte))]);
          expect(error?.reason).toBe("ratio_cap");
        },
      ),
      { numRuns: 50 },
    );
  });
});
