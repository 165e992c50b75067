// Interop with the npm `macaroon` package (the JS port of the Go/libmacaroons family) through
// its JSON v2 path: its binary export is broken (DESIGN.md §5), JSON is not.
import macaroon from "macaroon";
import { describe, expect, it } from "vitest";
import { CapVerifier, decodeV2, encodeV2, fromJsonV2, mintToken, toJsonV2 } from "../src/index.js";
import { keyRing, NOW, newRootKey, TENANT_A } from "./support.js";

const rootKey = newRootKey();
const tenantCaveat = `tenant = 0x${TENANT_A.toString(16).padStart(32, "0")}`;

describe("interop with the macaroon package", () => {
  it("the package verifies a token minted here", () => {
    const token = mintToken({ rootKey, keyId: "k1", tenant: TENANT_A, apps: [0x0101], tokenId: "ours" });
    const theirs = macaroon.importMacaroon(toJsonV2(decodeV2(token)));
    const seen: string[] = [];
    theirs.verify(rootKey, (condition: string) => {
      seen.push(condition);
      return null;
    });
    expect(seen).toEqual([tenantCaveat, "apps = 0x0101"]);
    // And refuses it under another root key.
    expect(() => theirs.verify(newRootKey(), () => null)).toThrow(/signature/);
  });

  it("a token minted and attenuated by the package verifies here", () => {
    const m = macaroon.newMacaroon({ identifier: "og1:k1:theirs:0", rootKey, version: 2 });
    m.addFirstPartyCaveat(tenantCaveat);
    m.addFirstPartyCaveat("ops = echo.call");
    const token = encodeV2(fromJsonV2(m.exportJSON()));
    const verifier = new CapVerifier({ keys: keyRing({ k1: rootKey }), now: () => NOW });
    const cap = verifier.verify(token, { tenant: TENANT_A, app: 0x0101, op: "echo.call" });
    expect(cap).toMatchObject({ tokenId: "theirs", tenant: TENANT_A });
    expect(() => verifier.verify(token, { tenant: TENANT_A, app: 0x0101, op: "echo.other" })).toThrow(/op/);
  });

  it("JSON v2 round-trips every field", () => {
    const token = mintToken({ rootKey, keyId: "k1", tenant: TENANT_A, location: "omnigate" });
    expect(encodeV2(fromJsonV2(toJsonV2(decodeV2(token))))).toEqual(token);
  });
});
