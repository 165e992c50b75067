import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CapError,
  type CaveatRule,
  decodeV2,
  encodeV2,
  formatCaveat,
  type Macaroon,
  parseCaveat,
} from "../src/index.js";

const bytes = (max: number) => fc.uint8Array({ maxLength: max }).map((b) => new Uint8Array(b));
const macaroon: fc.Arbitrary<Macaroon> = fc.record(
  {
    location: fc.string({ maxLength: 20 }),
    identifier: bytes(64),
    caveats: fc.array(
      fc.record(
        { id: bytes(40), vid: bytes(40), location: fc.string({ maxLength: 10 }) },
        { requiredKeys: ["id"] },
      ),
      { maxLength: 10 },
    ),
    signature: fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => new Uint8Array(b)),
  },
  { requiredKeys: ["identifier", "caveats", "signature"] },
);

describe("libmacaroons v2 binary format", () => {
  it("decodes what it encodes", () => {
    fc.assert(
      fc.property(macaroon, (m) => {
        expect(decodeV2(encodeV2(m))).toEqual(m);
      }),
      { numRuns: 1000 },
    );
  });

  it("only ever returns a macaroon or throws a CapError for arbitrary bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (input) => {
        try {
          decodeV2(input);
        } catch (err) {
          expect(err).toBeInstanceOf(CapError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("refuses trailing bytes and a short signature", () => {
    const m: Macaroon = { identifier: new Uint8Array([1]), caveats: [], signature: new Uint8Array(32) };
    const good = encodeV2(m);
    expect(() => decodeV2(Uint8Array.from([...good, 0]))).toThrow(/trailing/);
    expect(() => decodeV2(encodeV2({ ...m, signature: new Uint8Array(31) }))).toThrow(/32 bytes/);
  });
});

describe("caveat grammar", () => {
  it("formats and parses every rule kind back to itself", () => {
    const rules: CaveatRule[] = [
      { kind: "tenant", tenant: (1n << 128n) - 1n },
      { kind: "apps", apps: [0, 0x0101, 0xffff] },
      { kind: "ops", ops: ["mailbox.send", "storage.get"] },
      { kind: "topics", prefix: "chat/room-" },
      { kind: "expires", at: 1_800_000_000 },
      { kind: "not-before", at: 1 },
      { kind: "rps", max: 10 },
      { kind: "bytes", max: 0 },
    ];
    for (const rule of rules) expect(parseCaveat(formatCaveat(rule))).toEqual(rule);
    expect(parseCaveat("apps = 257")).toEqual({ kind: "apps", apps: [0x0101] });
  });

  it.each([
    `tenant = 0x${"f".repeat(33)}`,
    "tenant == 1",
    "apps = 0x10000",
    "apps = ",
    "apps = 1,,2",
    "ops = Mailbox.Send",
    "topics ^= has space",
    "expires < -1",
    "expires < 1.5",
    "expires <  5",
    "rps < 5",
    "colour = blue",
    "",
  ])("refuses %j as unknown", (text) => {
    expect(() => parseCaveat(text)).toThrow(expect.objectContaining({ reason: "forbidden" }));
  });
});
