/**
 * The group arithmetic under the ledger, cross-checked against published ristretto255 vectors
 * (RFC 9496 Appendix A), and our own parameters pinned so a change of derivation is seen.
 */
import { ristretto255_hasher } from "@noble/curves/ed25519.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { describe, expect, it } from "vitest";
import { LedgerProofError } from "../src/errors.js";
import { bulletproofGenerators, pedersenGenerators } from "../src/generators.js";
import { BASE, Fn, IDENTITY, ORDER, pointFromBytes, scalarFromBytes, scalarToBytes } from "../src/group.js";
import { commit } from "../src/pedersen.js";

/** RFC 9496 A.1: encodings of 0·B … 15·B. */
const GENERATOR_MULTIPLES = [
  "0000000000000000000000000000000000000000000000000000000000000000",
  "e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76",
  "6a493210f7499cd17fecb510ae0cea23a110e8d5b901f8acadd3095c73a3b919",
  "94741f5d5d52755ece4f23f044ee27d5d1ea1e2bd196b462166b16152a9d0259",
  "da80862773358b466ffadfe0b3293ab3d9fd53c5ea6c955358f568322daf6a57",
  "e882b131016b52c1d3337080187cf768423efccbb517bb495ab812c4160ff44e",
  "f64746d3c92b13050ed8d80236a7f0007c3b3f962f5ba793d19a601ebb1df403",
  "44f53520926ec81fbd5a387845beb7df85a96a24ece18738bdcfa6a7822a176d",
  "903293d8f2287ebe10e2374dc1a53e0bc887e592699f02d077d5263cdd55601c",
  "02622ace8f7303a31cafc63f8fc48fdc16e1c8c8d234b2f0d6685282a9076031",
  "20706fd788b2720a1ed2a5dad4952b01f413bcf0e7564de8cdc816689e2db95f",
  "bce83f8ba5dd2fa572864c24ba1810f9522bc6004afe95877ac73241cafdab42",
  "e4549ee16b9aa03099ca208c67adafcafa4c3f3e4e5303de6026e3ca8ff84460",
  "aa52e000df2e16f55fb1032fc33bc42742dad6bd5a8fc0be0167436c5948501f",
  "46376b80f409b29dc2b5f6f0c52591990896e5716f41477cd30085ab7f10301e",
  "e0c418f7c8d9c4cdd7395b93ea124f3ad99021bb681dfc3302a9d99a2e53e64e",
];

/** RFC 9496 A.2: encodings that must be refused (non-canonical, negative, not on the curve). */
const INVALID_ENCODINGS = [
  "00ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
  "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "f3ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "0100000000000000000000000000000000000000000000000000000000000000",
  "26948d35ca62e643e26a83177332e6b6afeb9d08e4268b650f1f5bbd8d81d371",
];

/** RFC 9496 A.3: element derivation from 64 uniform bytes (the map under hash-to-curve). */
const ELEMENT_DERIVATION = [
  {
    input:
      "5d1be09e3d0c82fc538112490e35701979d99e06ca3e2b5b54bffe8b4dc772c1" +
      "4d98b696a1bbfb5ca32c436cc61c16563790306c79eaca7705668b47dffe5bb6",
    output: "3066f82a1a747d45120d1740f14358531a8f04bbffe6a819f86dfe50f44a0a46",
  },
  {
    input:
      "f116b34b8f17ceb56e8732a60d913dd10cce47a6d53bee9204be8b44f6678b27" +
      "0102a56902e2488c46120e9276cfe54638286b9e4b3cdb470b542d46c2068d38",
    output: "f26e5b6f7d362d2d2a94c5d0e7602cb4773c95a2e5c31a64f133189fa76ed61b",
  },
];

describe("ristretto255 against RFC 9496", () => {
  it("encodes the multiples of the base point by addition and by scalar multiplication", () => {
    let sum = IDENTITY;
    GENERATOR_MULTIPLES.forEach((hex, k) => {
      expect(bytesToHex(sum.toBytes())).toBe(hex);
      expect(pointFromBytes(hexToBytes(hex), "multiple").equals(sum)).toBe(true);
      if (k > 0) expect(bytesToHex(BASE.multiply(BigInt(k)).toBytes())).toBe(hex);
      sum = sum.add(BASE);
    });
  });

  it.each(INVALID_ENCODINGS)("refuses the invalid encoding %s as bad_point", (hex) => {
    expect(() => pointFromBytes(hexToBytes(hex), "probe")).toThrow(
      expect.objectContaining({ name: "LedgerProofError", reason: "bad_point" }),
    );
  });

  it.each(ELEMENT_DERIVATION)("derives $output from uniform bytes", ({ input, output }) => {
    const derive = ristretto255_hasher.deriveToCurve;
    if (!derive) throw new Error("this @noble/curves has no deriveToCurve");
    expect(bytesToHex(derive(hexToBytes(input)).toBytes())).toBe(output);
  });

  it("has order ℓ: ℓ·B is the identity and (ℓ−1)·B = −B", () => {
    expect(
      BASE.multiplyUnsafe(ORDER - 1n)
        .add(BASE)
        .equals(IDENTITY),
    ).toBe(true);
    expect(BASE.multiply(ORDER - 1n).equals(BASE.negate())).toBe(true);
  });
});

describe("scalars", () => {
  it("round-trips canonical scalars and refuses ℓ and above as bad_scalar", () => {
    for (const s of [0n, 1n, 2n ** 200n + 12345n, ORDER - 1n]) {
      expect(scalarFromBytes(scalarToBytes(s), "s")).toBe(s);
    }
    const atOrder = new Uint8Array(32);
    let n = ORDER;
    for (let i = 0; i < 32; i++, n >>= 8n) atOrder[i] = Number(n & 0xffn);
    expect(() => scalarFromBytes(atOrder, "s")).toThrow(LedgerProofError);
    expect(() => scalarFromBytes(new Uint8Array(32).fill(0xff), "s")).toThrow(
      expect.objectContaining({ reason: "bad_scalar" }),
    );
  });
});

describe("parameters", () => {
  // Pinned: a change here changes every commitment and proof, so it must be a new version.
  it("derives the blinding base and the first vector generators as pinned", () => {
    const { B, blinding } = pedersenGenerators();
    expect(B.equals(BASE)).toBe(true);
    const { G, H } = bulletproofGenerators(2);
    const pinned = [blinding, G[0], G[1], H[0], H[1]].map((p) => bytesToHex((p as typeof BASE).toBytes()));
    expect(pinned).toEqual([
      "24e1e5d9e4aca171dbde142ec1f1b3fd1d7691388b5fb31d5db4045ce09e2c7d",
      "3eda85f2d8b7c69f4e4630730474b0e0fa324b7bc8f4dc5c03eaa3e0eeb21f47",
      "3ae899d8eec0b1248f99b5e96b39dbcf0f3744b63dc9f0a2e41791c54b421259",
      "cc8512713c02dfcaa8d6e547a73c11746347a8bf2173d752eefde0e94b417750",
      "9e05b0f56a5dc2521b3ccbcddeb7df2e41f845da9334c0b581b4bc81074cdc5a",
    ]);
    expect(new Set(pinned).size).toBe(5);
  });

  it("derives many distinct generators, none the base or the blinding base", () => {
    const { G, H } = bulletproofGenerators(256);
    const all = [...G, ...H, BASE, pedersenGenerators().blinding].map((p) => bytesToHex(p.toBytes()));
    expect(new Set(all).size).toBe(all.length);
  });

  it("commits additively: C(a, r) + C(b, s) = C(a + b, r + s)", () => {
    const c = commit(7n, 11n).add(commit(5n, 13n));
    expect(c.equals(commit(12n, 24n))).toBe(true);
    expect(c.equals(commit(13n, 24n))).toBe(false);
    expect(commit(0n, 0n).equals(IDENTITY)).toBe(true);
    expect(commit(ORDER - 1n, 0n).equals(BASE.negate())).toBe(true);
    expect(Fn.create(ORDER + 3n)).toBe(3n);
  });
});
