import { describe, expect, it } from "vitest";
import {
  attenuateToken,
  CapVerifier,
  decodeToken,
  decodeV2,
  encodeToken,
  encodeV2,
  inspectToken,
  mintToken,
} from "../src/index.js";
import { keyRing, NOW, newRootKey, refusal, TENANT_A } from "./support.js";

const rootKey = newRootKey();
const verifier = new CapVerifier({ keys: keyRing({ k1: rootKey }), now: () => NOW });
const broad = mintToken({ rootKey, keyId: "k1", tenant: TENANT_A, tokenId: "broad" });

describe("attenuation", () => {
  it("lets a holder narrow a token without the root key; the narrowed token cannot do what it forbids", () => {
    const narrowed = attenuateToken(broad, [
      { kind: "apps", apps: [0x0101] },
      { kind: "expires", at: NOW + 60 },
    ]);
    expect(verifier.verify(narrowed, { tenant: TENANT_A, app: 0x0101 }).tokenId).toBe("broad");
    expect(refusal(() => verifier.verify(narrowed, { tenant: TENANT_A, app: 0x0201 })).reason).toBe(
      "forbidden",
    );
    // The broad token still does both.
    expect(() => verifier.verify(broad, { tenant: TENANT_A, app: 0x0201 })).not.toThrow();
  });

  it("intersects repeated caveats: a second apps caveat cannot widen the first", () => {
    const narrowed = attenuateToken(mintToken({ rootKey, keyId: "k1", tenant: TENANT_A, apps: [0x0101] }), [
      "apps = 0x0101,0x0201",
    ]);
    expect(refusal(() => verifier.verify(narrowed, { tenant: TENANT_A, app: 0x0201 })).reason).toBe(
      "forbidden",
    );
  });

  it("breaks the MAC when a caveat is removed, reordered or edited", () => {
    const narrowed = decodeV2(attenuateToken(broad, ["apps = 0x0101", "ops = echo.call"]));
    const variants = [
      { ...narrowed, caveats: narrowed.caveats.slice(0, -1) },
      { ...narrowed, caveats: [narrowed.caveats[0], narrowed.caveats[2], narrowed.caveats[1]] },
      {
        ...narrowed,
        caveats: [...narrowed.caveats.slice(0, -1), { id: new TextEncoder().encode("ops = echo.cal") }],
      },
    ];
    for (const m of variants) {
      const token = encodeV2({ ...m, caveats: m.caveats.filter((c) => c !== undefined) });
      expect(
        refusal(() => verifier.verify(token, { tenant: TENANT_A, app: 0x0101, op: "echo.call" })),
      ).toMatchObject({
        reason: "unauthenticated",
        message: /signature/,
      });
    }
  });

  it("refuses to add a caveat outside the grammar", () => {
    expect(refusal(() => attenuateToken(broad, ["colour = blue"])).reason).toBe("forbidden");
  });

  it("round-trips through base64url and shows its caveats to inspect", () => {
    const text = encodeToken(attenuateToken(broad, ["rps <= 5"]));
    expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
    const seen = inspectToken(decodeToken(`  ${text}\n`));
    expect(seen).toMatchObject({ keyId: "k1", tokenId: "broad", epoch: 0 });
    expect(seen.caveats).toEqual([`tenant = 0x${TENANT_A.toString(16).padStart(32, "0")}`, "rps <= 5"]);
    expect(refusal(() => decodeToken("not base64!")).reason).toBe("unauthenticated");
  });
});
