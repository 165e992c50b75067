import {
  attenuateToken,
  decodeToken,
  decodeV2,
  encodeToken,
  encodeV2,
  MAX_CAVEATS,
  mintToken,
} from "@omnigate/caps";
import { encodeFrame, encodeStartPayload, Flags, type Meta } from "@omnigate/oap";
import { connect, type OapClient, OapRequestError } from "@omnigate/sdk";
import { afterEach, describe, expect, it } from "vitest";
import { chainSignature } from "../../packages/caps/src/hmac.js";
import type { OmnigateNode } from "../../packages/node/src/index.js";
import type { IncomingRequest, ResponseWriter, Service } from "../../packages/sdk/src/internal.js";
import { TestScope } from "../support/scope.js";

const PROBE = 0xf0a1;
const TENANT = 0x7a7an;
const OTHER_TENANT = 0x7b7bn;

/** Counts every request that reaches it, so a test can assert that a refusal never did. */
class ProbeService implements Service {
  readonly appProtoId = PROBE;
  readonly name = "probe";
  calls = 0;
  handle(req: IncomingRequest, res: ResponseWriter): void {
    this.calls++;
    res.reply(200, { op: String(req.meta.op ?? ""), tenant: req.tenantId.toString(16) });
  }
}

const scope = new TestScope();
afterEach(() => scope.close());

async function authNode(overrides: Record<string, string | number> = {}) {
  const probe = new ProbeService();
  const node = await scope.node({ authMode: "on", ...overrides }, { services: [probe] });
  return { node, probe };
}

async function client(
  node: OmnigateNode,
  cap: string | Uint8Array | undefined,
  tenant = TENANT,
): Promise<OapClient> {
  const c = await connect(node.oapUrl, {
    ca: node.caPem as string,
    servername: "localhost",
    tenant,
    ...(cap === undefined ? {} : { cap }),
  });
  scope.defer(() => c.close());
  return c;
}

/** The refusal a request gets, as "code reason", or "200". */
async function outcome(c: OapClient, meta: Meta = { op: "read", topic: "chat/room-1" }, cap?: Uint8Array) {
  try {
    const res = await c.request(PROBE, { meta, ...(cap ? { cap } : {}) });
    return String(res.code);
  } catch (err) {
    if (err instanceof OapRequestError) return `${err.code} ${err.reason}`;
    throw err;
  }
}

function rootKey(node: OmnigateNode) {
  return node.authority.keys.current();
}

describe("capabilities on every request", () => {
  it("lets a token through for what it allows", async () => {
    const { node, probe } = await authNode();
    const minted = await node.authority.mint(
      { tenant: TENANT, apps: [PROBE], ops: ["probe.read"], topics: "chat/" },
      "test",
    );
    const c = await client(node, minted.token);
    expect(await outcome(c)).toBe("200");
    expect(probe.calls).toBe(1);
  });

  it("refuses each bad capability with its exact code and reason, before any service sees it", async () => {
    const { node, probe } = await authNode();
    const { id: keyId, key } = rootKey(node);
    const now = Math.floor(Date.now() / 1000);
    const good = (extra: Partial<Parameters<typeof mintToken>[0]> = {}) =>
      mintToken({
        rootKey: key,
        keyId,
        tenant: TENANT,
        apps: [PROBE],
        ops: ["probe.read"],
        topics: "chat/",
        ...extra,
      });
    const flipped = good();
    flipped[flipped.length - 1] = (flipped[flipped.length - 1] as number) ^ 1;
    const unknownCaveat = (() => {
      const m = decodeV2(good());
      const ids = [...m.caveats.map((c) => c.id), new TextEncoder().encode("region = eu")];
      return encodeV2({
        identifier: m.identifier,
        caveats: ids.map((id) => ({ id })),
        signature: chainSignature(key, m.identifier, ids),
      });
    })();
    const tooMany = (() => {
      const m = decodeV2(good());
      const ids = [
        ...m.caveats.map((c) => c.id),
        ...Array.from({ length: MAX_CAVEATS }, () => new TextEncoder().encode("rps <= 1000")),
      ];
      return encodeV2({
        identifier: m.identifier,
        caveats: ids.map((id) => ({ id })),
        signature: chainSignature(key, m.identifier, ids),
      });
    })();
    const revokedById = good({ tokenId: "revoke-me" });
    await node.authority.revokeToken("revoke-me", "test");
    const epochTenant = 0x5151n;
    const beforeEpoch = mintToken({ rootKey: key, keyId, tenant: epochTenant });
    await node.authority.revokeTenant(epochTenant, "test");

    const cases: Array<[string, Uint8Array | undefined, string, bigint?]> = [
      ["missing cap", undefined, "401 unauthenticated"],
      ["garbage cap", new TextEncoder().encode("not a token at all"), "401 unauthenticated"],
      ["bit-flipped MAC", flipped, "401 unauthenticated"],
      ["expired", good({ expiresAt: now - 120 }), "401 cap_expired"],
      ["not yet valid", good({ notBefore: now + 120 }), "401 cap_expired"],
      ["revoked by id", revokedById, "401 cap_revoked"],
      ["revoked by tenant epoch", beforeEpoch, "401 cap_revoked", epochTenant],
      ["header tenant is not the token's", good({ tenant: OTHER_TENANT }), "403 tenant_mismatch"],
      ["app not allowed", good({ apps: [0x0101] }), "403 forbidden"],
      ["op not allowed", good({ ops: ["probe.write"] }), "403 forbidden"],
      ["topic outside the prefix", good({ topics: "news/" }), "403 forbidden"],
      ["unknown caveat", unknownCaveat, "403 forbidden"],
      ["too many caveats", tooMany, "413 cap_too_large"],
      ["oversized token", new Uint8Array(4097), "413 cap_too_large"],
    ];
    const c = await client(node, undefined);
    for (const [name, cap, expected, tenant] of cases) {
      const caller = tenant === undefined ? c : await client(node, undefined, tenant);
      expect(`${name}: ${await outcome(caller, { op: "read", topic: "chat/room-1" }, cap)}`).toBe(
        `${name}: ${expected}`,
      );
    }
    expect(probe.calls).toBe(0);
    expect(node.admission().refused.capability).toBe(cases.length - 1); // the oversized one is refused by the session
  });

  it("lets a holder narrow a token; the narrowed token cannot do what its caveat forbids", async () => {
    const { node, probe } = await authNode();
    const broad = await node.authority.mint({ tenant: TENANT, apps: [PROBE] }, "test");
    const narrow = encodeToken(attenuateToken(decodeToken(broad.token), ["topics ^= chat/room-1"]));
    const c = await client(node, narrow);
    expect(await outcome(c, { op: "read", topic: "chat/room-1" })).toBe("200");
    expect(await outcome(c, { op: "read", topic: "chat/room-2" })).toBe("403 forbidden");
    expect(probe.calls).toBe(1);
  });

  it("binds a capability sent with HELLO as the connection's default, and reports a bad one", async () => {
    const { node, probe } = await authNode();
    const minted = await node.authority.mint({ tenant: TENANT, apps: [PROBE] }, "test");
    const cap = decodeToken(minted.token);
    const hello = (corrId: bigint, withCap: Uint8Array | undefined) =>
      encodeFrame({
        flags: Flags.REQ | Flags.START | Flags.END,
        appProtoId: 0,
        tenantId: TENANT,
        corrId,
        ...(withCap ? { cap: withCap } : {}),
        payload: encodeStartPayload({}, new Uint8Array(0)),
      });
    const request = (corrId: bigint) =>
      encodeFrame({
        flags: Flags.REQ | Flags.START | Flags.END,
        appProtoId: PROBE,
        tenantId: TENANT,
        corrId,
        payload: encodeStartPayload({ op: "read" }, new Uint8Array(0)),
      });

    const bound = await scope.raw(node);
    bound.write(hello(1n, cap));
    const reply = await bound.waitFor((f) => f.corrId === 1n);
    expect(reply?.meta?.cap).toEqual({ bound: true, token_id: minted.tokenId });
    bound.write(request(2n));
    expect((await bound.waitFor((f) => f.corrId === 2n))?.code).toBe(200);

    const unbound = await scope.raw(node);
    const garbage = new Uint8Array(cap);
    garbage[garbage.length - 1] = (garbage[garbage.length - 1] as number) ^ 1;
    unbound.write(hello(1n, garbage));
    expect((await unbound.waitFor((f) => f.corrId === 1n))?.meta?.cap).toMatchObject({
      bound: false,
      code: 401,
      reason: "unauthenticated",
    });
    unbound.write(request(2n));
    expect((await unbound.waitFor((f) => f.corrId === 2n))?.meta?.reason).toBe("unauthenticated");
    expect(probe.calls).toBe(1);

    // A second HELLO replaces the binding: the token verified for the first one (which the
    // node remembers per connection) must not let anything through under the new one.
    const other = await node.authority.mint({ tenant: TENANT, apps: [PROBE + 1] }, "test");
    bound.write(hello(3n, decodeToken(other.token)));
    expect((await bound.waitFor((f) => f.corrId === 3n))?.meta?.cap).toMatchObject({ bound: true });
    bound.write(request(4n));
    expect((await bound.waitFor((f) => f.corrId === 4n))?.meta?.reason).toBe("forbidden");
    bound.write(hello(5n, garbage));
    expect((await bound.waitFor((f) => f.corrId === 5n))?.meta?.cap).toMatchObject({ bound: false });
    bound.write(request(6n));
    expect((await bound.waitFor((f) => f.corrId === 6n))?.meta?.reason).toBe("unauthenticated");
    bound.write(hello(7n, cap));
    bound.write(request(8n));
    expect((await bound.waitFor((f) => f.corrId === 8n))?.code).toBe(200);
    expect(probe.calls).toBe(2);
  });

  it("checks each connection's requests against that connection's own capability, interleaved", async () => {
    const { node, probe } = await authNode();
    const forTenant = decodeToken(
      (await node.authority.mint({ tenant: TENANT, apps: [PROBE] }, "test")).token,
    );
    const forOther = decodeToken(
      (await node.authority.mint({ tenant: OTHER_TENANT, apps: [PROBE] }, "test")).token,
    );
    const frame = (tenantId: bigint, corrId: bigint, appProtoId: number, cap?: Uint8Array) =>
      encodeFrame({
        flags: Flags.REQ | Flags.START | Flags.END,
        appProtoId,
        tenantId,
        corrId,
        ...(cap ? { cap } : {}),
        payload: encodeStartPayload(appProtoId === 0 ? {} : { op: "read" }, new Uint8Array(0)),
      });
    // Three connections, each with its own bound capability (or none), asked in turn: the node
    // remembers the last verified capability per connection, and must never lend one to another.
    const a = await scope.raw(node);
    const b = await scope.raw(node);
    const unbound = await scope.raw(node);
    a.write(frame(TENANT, 1n, 0, forTenant));
    b.write(frame(OTHER_TENANT, 1n, 0, forOther));
    await a.waitFor((f) => f.corrId === 1n);
    await b.waitFor((f) => f.corrId === 1n);
    for (let id = 2n; id < 8n; id++) {
      a.write(frame(TENANT, id, PROBE));
      expect((await a.waitFor((f) => f.corrId === id))?.meta?.tenant).toBe(TENANT.toString(16));
      unbound.write(frame(TENANT, id, PROBE));
      expect((await unbound.waitFor((f) => f.corrId === id))?.meta?.reason).toBe("unauthenticated");
      b.write(frame(OTHER_TENANT, id, PROBE));
      expect((await b.waitFor((f) => f.corrId === id))?.meta?.tenant).toBe(OTHER_TENANT.toString(16));
      // Tenant A's request on B's connection: B's token is for the other tenant.
      b.write(frame(TENANT, id + 100n, PROBE));
      expect((await b.waitFor((f) => f.corrId === id + 100n))?.meta?.reason).toBe("tenant_mismatch");
    }
    expect(probe.calls).toBe(12);
  });

  it("pushes the new rev_seq to connected clients and serves the revocation diff", async () => {
    const { node } = await authNode();
    const minted = await node.authority.mint({ tenant: TENANT }, "test");
    const c = await client(node, minted.token);
    expect(c.hello.rev_seq).toBe(0);
    const pushed = new Promise<Meta>((resolve) => c.on("event", (e) => resolve(e.meta)));
    await node.authority.revokeToken("someone-else", "test");
    expect(await pushed).toEqual({ event: "revoked", rev_seq: 1 });
    const diff = await c.request(0, { meta: { op: "revocations", since: 0 } });
    expect(diff.meta).toMatchObject({
      rev_seq: 1,
      revocations: [{ seq: 1, kind: "token", token_id: "someone-else" }],
    });
  });

  it("keeps tokens under a rotated-out key working for the grace period only", async () => {
    const { node } = await authNode({ authKeyGraceMs: 1_500 });
    const old = await node.authority.mint({ tenant: TENANT, apps: [PROBE] }, "test");
    await node.authority.rotate("test");
    const fresh = await node.authority.mint({ tenant: TENANT, apps: [PROBE] }, "test");
    const c = await client(node, undefined);
    expect(await outcome(c, { op: "read" }, decodeToken(old.token))).toBe("200");
    await new Promise((r) => setTimeout(r, 1_600));
    expect(await outcome(c, { op: "read" }, decodeToken(old.token))).toBe("401 unauthenticated");
    expect(await outcome(c, { op: "read" }, decodeToken(fresh.token))).toBe("200");
  });

  it("refreshes a revoked capability through the client's provider without the caller seeing an error", async () => {
    const { node, probe } = await authNode();
    const first = await node.authority.mint({ tenant: TENANT, apps: [PROBE] }, "test");
    let provided = 0;
    const c = await connect(node.oapUrl, {
      ca: node.caPem as string,
      servername: "localhost",
      tenant: TENANT,
      cap: first.token,
      capProvider: async () => {
        provided++;
        return (await node.authority.mint({ tenant: TENANT, apps: [PROBE] }, "test")).token;
      },
    });
    scope.defer(() => c.close());
    expect((await c.request(PROBE, { meta: { op: "read" } })).code).toBe(200);
    await node.authority.revokeToken(first.tokenId, "test");
    expect((await c.request(PROBE, { meta: { op: "read" } })).code).toBe(200);
    expect(provided).toBe(1);
    expect(probe.calls).toBe(2);
  });

  it("checks a repeated request again when its op changes, its token expires or is revoked", async () => {
    // The node remembers a passed check per connection and skips it for the same request:
    // that must never outlive what the check depended on.
    const { node, probe } = await authNode({ authSkewSeconds: 0 });
    const minted = await node.authority.mint(
      { tenant: TENANT, apps: [PROBE], ops: ["probe.read"], ttlSeconds: 1 },
      "test",
    );
    const mintedAt = Date.now();
    const c = await client(node, minted.token);
    expect(await outcome(c, { op: "read" })).toBe("200");
    expect(await outcome(c, { op: "write" })).toBe("403 forbidden");
    expect(await outcome(c, { op: "read" })).toBe("200");
    // `expires` is in whole seconds: the token ends within 2 s of its minting.
    await new Promise((r) => setTimeout(r, 2_100 - (Date.now() - mintedAt)));
    expect(await outcome(c, { op: "read" })).toBe("401 cap_expired");

    const lasting = await node.authority.mint({ tenant: TENANT, apps: [PROBE] }, "test");
    const other = await client(node, lasting.token);
    expect(await outcome(other, { op: "read" })).toBe("200");
    await node.authority.revokeToken(lasting.tokenId, "test");
    expect(await outcome(other, { op: "read" })).toBe("401 cap_revoked");
    expect(probe.calls).toBe(3);
  });

  it("refuses a repeated request once its token's root key retires, inside the remembered check's second", async () => {
    const { node } = await authNode({ authKeyGraceMs: 300 });
    const minted = await node.authority.mint({ tenant: TENANT, apps: [PROBE] }, "test");
    const c = await client(node, minted.token);
    expect(await outcome(c, { op: "read" })).toBe("200");
    await node.authority.rotate("test");
    const rotatedAt = Date.now();
    // Checked again after the rotation: still inside the key's 300 ms grace.
    expect(await outcome(c, { op: "read" })).toBe("200");
    await new Promise((r) => setTimeout(r, 400 - (Date.now() - rotatedAt)));
    expect(await outcome(c, { op: "read" })).toBe("401 unauthenticated");
  });

  it("applies a token's own rps caveat as 429 quota with a retry hint", async () => {
    const { node } = await authNode();
    const minted = await node.authority.mint({ tenant: TENANT, apps: [PROBE], rps: 3 }, "test");
    const c = await client(node, minted.token);
    const outcomes = await Promise.all(Array.from({ length: 6 }, () => outcome(c, { op: "read" })));
    expect(outcomes.filter((o) => o === "200")).toHaveLength(3);
    expect(outcomes.filter((o) => o === "429 quota")).toHaveLength(3);
  });
});

describe("the capability admin API", () => {
  it("mints over HTTP with the admin token and refuses without it", async () => {
    const { node, probe } = await authNode();
    const { readFileSync } = await import("node:fs");
    const adminToken = readFileSync(node.auth.adminTokenPath, "utf8").trim();
    const mint = (auth: string | undefined) =>
      fetch(`${node.adminUrl}/v1/caps/mint`, {
        method: "POST",
        headers: { "content-type": "application/json", ...(auth ? { authorization: `Bearer ${auth}` } : {}) },
        body: JSON.stringify({ tenant: TENANT.toString(16), apps: [`0x${PROBE.toString(16)}`], ttl_s: 600 }),
      });
    expect((await mint(undefined)).status).toBe(401);
    expect((await mint("wrong")).status).toBe(401);
    const res = await mint(adminToken);
    expect(res.status).toBe(200);
    const minted = (await res.json()) as { token: string };
    const c = await client(node, minted.token);
    expect(await outcome(c, { op: "read" })).toBe("200");
    expect(probe.calls).toBe(1);
  });

  it("prints a dev capability for tenant 0 that works against echo", async () => {
    const { node } = await authNode();
    expect(node.auth.mode).toBe("on");
    const c = await client(node, node.auth.devCap, 0n);
    const res = await c.request(0x0101, { body: "hi" });
    expect(Buffer.from(res.body).toString()).toBe("hi");
  });
});
