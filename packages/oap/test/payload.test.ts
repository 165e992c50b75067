import { describe, expect, it } from "vitest";
import {
  decodeStartPayload,
  encodeStartPayload,
  errorFrame,
  Flags,
  MAX_META_LEN,
  OapError,
  parseMeta,
  toOapError,
} from "../src/internal.js";

// The START payload layout of specs/oap-1.md §6 and the error frame of §7.

function expectBadMeta(fn: () => unknown): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(OapError);
  expect((caught as OapError).reason).toBe("bad_meta");
  expect((caught as OapError).code).toBe(400);
  expect((caught as OapError).fatal).toBe(false);
}

/** meta_len u16 | meta bytes | body, built by hand. */
function raw(meta: string | Uint8Array, body: Uint8Array = new Uint8Array(0), metaLen?: number): Uint8Array {
  const metaBytes = typeof meta === "string" ? Buffer.from(meta, "utf8") : Buffer.from(meta);
  const out = Buffer.alloc(2 + metaBytes.byteLength + body.byteLength);
  out.writeUInt16BE(metaLen ?? metaBytes.byteLength, 0);
  metaBytes.copy(out, 2);
  out.set(body, 2 + metaBytes.byteLength);
  return out;
}

describe("encodeStartPayload / decodeStartPayload", () => {
  it("lays out meta_len, meta JSON and body, and round-trips them", () => {
    const meta = { op: "put", n: 3, nested: { ok: true, list: [1, "two"] } };
    const body = Buffer.from([0, 1, 2, 255]);
    const bytes = encodeStartPayload(meta, body);
    const json = JSON.stringify(meta);
    expect(bytes.readUInt16BE(0)).toBe(json.length);
    expect(bytes.subarray(2, 2 + json.length).toString("utf8")).toBe(json);
    expect(bytes.subarray(2 + json.length).equals(body)).toBe(true);

    const decoded = decodeStartPayload(bytes);
    expect(decoded.meta).toEqual(meta);
    expect(Buffer.from(decoded.body).equals(body)).toBe(true);
  });

  it("counts meta_len in UTF-8 bytes, not characters", () => {
    const meta = { greeting: "grüß — こんにちは 🚀" };
    const bytes = encodeStartPayload(meta);
    const utf8Len = Buffer.byteLength(JSON.stringify(meta), "utf8");
    expect(utf8Len).toBeGreaterThan(JSON.stringify(meta).length);
    expect(bytes.readUInt16BE(0)).toBe(utf8Len);
    expect(bytes.byteLength).toBe(2 + utf8Len);
    expect(decodeStartPayload(bytes).meta).toEqual(meta);
  });

  it("sends an empty or missing meta as meta_len 0", () => {
    const body = Buffer.from("abc");
    expect(encodeStartPayload({}, body).toString("hex")).toBe(`0000${body.toString("hex")}`);
    expect(encodeStartPayload(undefined, body).toString("hex")).toBe(`0000${body.toString("hex")}`);
    expect(encodeStartPayload({}).toString("hex")).toBe("0000");

    const decoded = decodeStartPayload(Buffer.from("0000616263", "hex"));
    expect(decoded.meta).toEqual({});
    expect(Buffer.from(decoded.body).toString()).toBe("abc");
  });

  it("accepts an explicit empty object in meta", () => {
    expect(decodeStartPayload(raw("{}", Buffer.from("z"))).meta).toEqual({});
  });

  it("returns the body as a view of the payload, whatever bytes it holds", () => {
    const body = new Uint8Array(300).map((_, i) => i & 0xff);
    const payload = raw('{"k":1}', body);
    const decoded = decodeStartPayload(payload);
    expect(decoded.body.buffer).toBe(payload.buffer);
    expect(Buffer.from(decoded.body).equals(Buffer.from(body))).toBe(true);
  });

  it("accepts a meta of exactly 65535 bytes and rejects one of 65536", () => {
    const fits = { pad: "x".repeat(MAX_META_LEN - '{"pad":""}'.length) };
    const bytes = encodeStartPayload(fits, Buffer.from("b"));
    expect(bytes.readUInt16BE(0)).toBe(MAX_META_LEN);
    expect(decodeStartPayload(bytes).meta).toEqual(fits);

    const tooBig = { pad: `${fits.pad}x` };
    expectBadMeta(() => encodeStartPayload(tooBig));
  });

  it("rejects meta that is valid JSON but not an object", () => {
    for (const json of ["[]", "[1,2]", "null", "42", '"text"', "true"]) {
      expectBadMeta(() => decodeStartPayload(raw(json)));
      expectBadMeta(() => parseMeta(Buffer.from(json)));
    }
  });

  it("rejects meta that is not JSON or not UTF-8", () => {
    expectBadMeta(() => decodeStartPayload(raw("not json")));
    expectBadMeta(() => decodeStartPayload(raw('{"a":1')));
    expectBadMeta(() =>
      decodeStartPayload(raw(new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]))),
    );
  });

  it("rejects payloads too short for meta_len or for the meta it announces", () => {
    expectBadMeta(() => decodeStartPayload(new Uint8Array(0)));
    expectBadMeta(() => decodeStartPayload(new Uint8Array([0])));
    expectBadMeta(() => decodeStartPayload(raw("{}", new Uint8Array(0), 3)));
    expectBadMeta(() => decodeStartPayload(new Uint8Array([0xff, 0xff, 0x7b, 0x7d])));
  });
});

describe("errorFrame", () => {
  const stream = { corrId: 77n, appProtoId: 0x0101, tenantId: 5n };

  it("is RESP|START|END with the error's code and {reason, message, retry_after_ms} meta and no body", () => {
    const err = new OapError("too_many_streams", "slow down", { retryAfterMs: 100 });
    const init = errorFrame(err, stream);
    expect(init).toMatchObject({ flags: Flags.RESP | Flags.START | Flags.END, code: 429, corrId: 77n });
    expect(init.appProtoId).toBe(0x0101);
    expect(init.tenantId).toBe(5n);
    const { meta, body } = decodeStartPayload(init.payload as Uint8Array);
    expect(meta).toEqual({ reason: "too_many_streams", message: "slow down", retry_after_ms: 100 });
    expect(body.byteLength).toBe(0);
  });

  it("drops START once a response has started, but keeps the START payload layout", () => {
    const init = errorFrame(new OapError("internal", "boom"), stream, true);
    expect(init.flags).toBe(Flags.RESP | Flags.END);
    expect(init.code).toBe(500);
    expect(decodeStartPayload(init.payload as Uint8Array).meta).toEqual({
      reason: "internal",
      message: "boom",
    });
  });

  it("turns anything that is not an OapError into 500 internal without leaking its message", () => {
    const err = toOapError(new Error("secret path /etc/x"));
    expect(err.reason).toBe("internal");
    expect(err.code).toBe(500);
    expect(err.message).not.toContain("secret");
    const known = new OapError("not_found", "no such blob");
    expect(toOapError(known)).toBe(known);
  });
});
