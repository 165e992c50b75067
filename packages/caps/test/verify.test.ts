import { describe, expect, it } from "vitest";
import { chainSignature } from "../src/hmac.js";
import {
  type CapContext,
  type CapRefusal,
  CapVerifier,
  decodeV2,
  encodeV2,
  MAX_CAVEATS,
  MAX_TOKEN_BYTES,
  mintToken,
} from "../src/index.js";
import { keyRing, NOW, newRootKey, refusal, TENANT_A, TENANT_B } from "./support.js";

const rootKey = newRootKey();
const keys = keyRing({ k1: rootKey });
const ctx: CapContext = { tenant: TENANT_A, app: 0x0201, op: "mailbox.send", topic: "chat/room-1" };

function verifier(revoked: { ids?: string[]; tenantEpoch?: number } = {}): CapVerifier {
  return new CapVerifier({
    keys,
    now: () => NOW,
    revocations: {
      isRevoked: (t) =>
        (revoked.ids ?? []).includes(t.tokenId) ||
        (revoked.tenantEpoch !== undefined && t.tenant === TENANT_A && t.epoch < revoked.tenantEpoch),
    },
  });
}

function mint(extra: Partial<Parameters<typeof mintToken>[0]> = {}): Uint8Array {
  return mintToken({
    rootKey,
    keyId: "k1",
    tenant: TENANT_A,
    apps: [0x0201, 0x0101],
    ops: ["mailbox.send", "mailbox.recv"],
    topics: "chat/",
    expiresAt: NOW + 3600,
    ...extra,
  });
}

describe("CapVerifier", () => {
  it("accepts a token for what it allows and reports its limits", () => {
    const cap = verifier().verify(mint({ rps: 50, bytes: 1_000_000, tokenId: "t-1" }), ctx);
    expect(cap).toMatchObject({ keyId: "k1", tokenId: "t-1", epoch: 0, tenant: TENANT_A, rps: 50 });
    expect(cap.bytes).toBe(1_000_000);
    expect(cap.expiresAt).toBe(NOW + 3600);
  });

  const cases: Array<[string, () => Uint8Array | undefined, CapRefusal, RegExp]> = [
    ["missing cap", () => undefined, "unauthenticated", /no capability/],
    ["empty cap", () => new Uint8Array(0), "unauthenticated", /no capability/],
    ["garbage", () => new TextEncoder().encode("definitely not a macaroon"), "unauthenticated", /malformed/],
    [
      "bit-flipped MAC",
      () => {
        const t = mint();
        t[t.length - 1] = (t[t.length - 1] as number) ^ 0x01;
        return t;
      },
      "unauthenticated",
      /signature/,
    ],
    ["expired", () => mint({ expiresAt: NOW - 61 }), "cap_expired", /expired/],
    ["not yet valid", () => mint({ notBefore: NOW + 61 }), "cap_expired", /not valid before/],
    ["header tenant is not the token's", () => mint({ tenant: TENANT_B }), "tenant_mismatch", /tenant/],
    ["app not allowed", () => mint({ apps: [0x0101] }), "forbidden", /app 0x0201/],
    ["op not allowed", () => mint({ ops: ["mailbox.recv"] }), "forbidden", /op mailbox.send/],
    [
      "topic outside the prefix",
      () => mint({ topics: "news/" }),
      "forbidden",
      /topics starting with "news\/"/,
    ],
    ["unknown key", () => mintToken({ rootKey, keyId: "k9", tenant: TENANT_A }), "unauthenticated", /k9/],
  ];
  it.each(cases)("refuses %s", (_name, token, reason, message) => {
    const refused = refusal(() => verifier().verify(token(), ctx));
    expect(refused.reason).toBe(reason);
    expect(refused.message).toMatch(message);
  });

  it("tolerates 60 s of clock skew on both time caveats", () => {
    expect(() => verifier().verify(mint({ expiresAt: NOW - 59 }), ctx)).not.toThrow();
    expect(() => verifier().verify(mint({ notBefore: NOW + 59 }), ctx)).not.toThrow();
  });

  it("refuses a token revoked by id, and every older token of a tenant whose epoch was revoked", () => {
    expect(refusal(() => verifier({ ids: ["gone"] }).verify(mint({ tokenId: "gone" }), ctx)).reason).toBe(
      "cap_revoked",
    );
    const v = verifier({ tenantEpoch: 3 });
    expect(refusal(() => v.verify(mint({ epoch: 2 }), ctx)).reason).toBe("cap_revoked");
    expect(v.verify(mint({ epoch: 3 }), ctx).epoch).toBe(3);
  });

  it("refuses an oversized token and one with too many caveats before any HMAC work", () => {
    const m = decodeV2(mint());
    const big = encodeV2({ ...m, identifier: new Uint8Array(MAX_TOKEN_BYTES) });
    expect(refusal(() => verifier().verify(big, ctx)).reason).toBe("cap_too_large");
    const many = encodeV2({
      ...m,
      caveats: Array.from({ length: MAX_CAVEATS + 1 }, () => ({ id: new TextEncoder().encode("rps <= 1") })),
    });
    expect(refusal(() => verifier().verify(many, ctx)).reason).toBe("cap_too_large");
  });

  it("fails closed on a correctly signed caveat it cannot evaluate", () => {
    const m = decodeV2(mint());
    const caveats = [...m.caveats.map((c) => c.id), new TextEncoder().encode("region = eu-west")];
    const token = encodeV2({
      identifier: m.identifier,
      caveats: caveats.map((id) => ({ id })),
      signature: chainSignature(rootKey, m.identifier, caveats),
    });
    const refused = refusal(() => verifier().verify(token, ctx));
    expect(refused).toEqual({
      reason: "forbidden",
      message: expect.stringMatching(/unknown caveat "region = eu-west"/),
    });
  });

  it("refuses a signed token that names no tenant", () => {
    const m = decodeV2(mint());
    const token = encodeV2({
      identifier: m.identifier,
      caveats: [],
      signature: chainSignature(rootKey, m.identifier, []),
    });
    expect(refusal(() => verifier().verify(token, ctx))).toMatchObject({
      reason: "forbidden",
      message: /tenant/,
    });
  });

  it("caches the MAC check but applies key retirement and revocation to cached tokens at once", () => {
    const ring = keyRing({ k1: rootKey });
    const revoked = new Set<string>();
    const v = new CapVerifier({
      keys: ring,
      now: () => NOW,
      revocations: { isRevoked: (t) => revoked.has(t.tokenId) },
    });
    const token = mint({ tokenId: "cached" });
    v.verify(token, ctx);
    v.verify(token, ctx);
    expect(v.cachedTokens).toBe(1);
    revoked.add("cached");
    expect(refusal(() => v.verify(token, ctx)).reason).toBe("cap_revoked");
    revoked.clear();
    ring.retire("k1");
    expect(refusal(() => v.verify(token, ctx))).toMatchObject({
      reason: "unauthenticated",
      message: /retired/,
    });
  });

  it("checks time at the request time it is given, and reads the clock for one that is no number", () => {
    // Default skew 60 s: a token expiring at NOW + 10 is refused from NOW + 70 on.
    const token = mint({ expiresAt: NOW + 10 });
    expect(() => verifier().verify(token, ctx, (NOW + 69) * 1000)).not.toThrow();
    expect(refusal(() => verifier().verify(token, ctx, (NOW + 70) * 1000)).reason).toBe("cap_expired");
    const cap = verifier().verify(token, ctx);
    expect(refusal(() => verifier().authorize(cap, ctx, (NOW + 70) * 1000)).reason).toBe("cap_expired");
    // NaN would pass every comparison: the verifier's clock (NOW) decides instead.
    const late = { now: () => NOW + 70, keys };
    expect(refusal(() => new CapVerifier(late).verify(token, ctx, Number.NaN)).reason).toBe("cap_expired");
    expect(() => verifier().verify(token, ctx, Number.NaN)).not.toThrow();
  });

  it("keeps the cache bounded", () => {
    const v = new CapVerifier({ keys, now: () => NOW, cacheSize: 8 });
    for (let i = 0; i < 50; i++) v.verify(mint({ tokenId: `t${i}` }), ctx);
    expect(v.cachedTokens).toBe(8);
  });
});
