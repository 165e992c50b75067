import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { decodeToken, inspectToken } from "@omnigate/caps";
import { OapError } from "@omnigate/oap";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { type RedisProcess, startRedis } from "../../../testing/support/redis-server.js";
import { tempDir } from "../../../testing/support/temp-dir.js";
import { Authority, type AuthSettings } from "../src/auth/authority.js";

const silent = pino({ level: "silent" });
const settings: AuthSettings = {
  mode: "on",
  keyGraceMs: 10 * 60_000,
  skewSeconds: 60,
  redisUrl: "",
  devCapTtlSeconds: 30 * 86_400,
};
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function authority(
  extra: Partial<AuthSettings> = {},
  now?: () => number,
  nodeId = "node-a",
  keysFrom?: string,
) {
  const dir = tempDir();
  cleanups.push(dir.remove);
  if (keysFrom) {
    mkdirSync(join(dir.path, "auth"));
    copyFileSync(join(keysFrom, "root-keys.json"), join(dir.path, "auth", "root-keys.json"));
  }
  const auth = await Authority.open({
    dir: join(dir.path, "auth"),
    nodeId,
    settings: { ...settings, ...extra },
    log: silent,
    now,
  });
  cleanups.push(() => auth.close());
  return { auth, dir: join(dir.path, "auth") };
}

function reason(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof OapError) return `${err.code} ${err.reason}`;
    throw err;
  }
  return "accepted";
}

describe("Authority", () => {
  it("mints tokens that verify for their tenant and refuses them as OapErrors otherwise", async () => {
    const { auth } = await authority();
    const minted = await auth.mint({ tenant: 7n, apps: [0x0101], ttlSeconds: 60 }, "test");
    const token = decodeToken(minted.token);
    expect(auth.verify(token, { tenant: 7n, app: 0x0101 })?.tokenId).toBe(minted.tokenId);
    expect(reason(() => auth.verify(token, { tenant: 8n, app: 0x0101 }))).toBe("403 tenant_mismatch");
    expect(reason(() => auth.verify(undefined, { tenant: 7n, app: 0x0101 }))).toBe("401 unauthenticated");
  });

  it("lets everything through with mode off", async () => {
    const { auth } = await authority({ mode: "off" });
    expect(auth.verify(undefined, { tenant: 1n, app: 1 })).toBeUndefined();
  });

  it("keeps tokens under a rotated-out key valid for the grace period only", async () => {
    let now = Date.parse("2026-11-26T00:00:00Z");
    const { auth } = await authority({ keyGraceMs: 10 * 60_000 }, () => now);
    const old = decodeToken((await auth.mint({ tenant: 1n }, "test")).token);
    await auth.rotate("test");
    const fresh = decodeToken((await auth.mint({ tenant: 1n }, "test")).token);
    expect(inspectToken(fresh).keyId).toBe("k2");
    now += 9 * 60_000;
    expect(reason(() => auth.verify(old, { tenant: 1n, app: 1 }))).toBe("accepted");
    now += 2 * 60_000;
    expect(reason(() => auth.verify(old, { tenant: 1n, app: 1 }))).toBe("401 unauthenticated");
    expect(reason(() => auth.verify(fresh, { tenant: 1n, app: 1 }))).toBe("accepted");
  });

  it("revokes by token id and by tenant epoch; tokens minted after an epoch revocation work", async () => {
    const { auth } = await authority();
    const a = await auth.mint({ tenant: 5n }, "test");
    const b = await auth.mint({ tenant: 5n }, "test");
    await auth.revokeToken(a.tokenId, "test");
    expect(reason(() => auth.verify(decodeToken(a.token), { tenant: 5n, app: 1 }))).toBe("401 cap_revoked");
    expect(reason(() => auth.verify(decodeToken(b.token), { tenant: 5n, app: 1 }))).toBe("accepted");
    await auth.revokeTenant(5n, "test");
    expect(reason(() => auth.verify(decodeToken(b.token), { tenant: 5n, app: 1 }))).toBe("401 cap_revoked");
    const c = await auth.mint({ tenant: 5n }, "test");
    expect(c.epoch).toBe(1);
    expect(reason(() => auth.verify(decodeToken(c.token), { tenant: 5n, app: 1 }))).toBe("accepted");
    expect(auth.revSeq).toBe(2);
  });

  it("writes every mint, rotation and revocation to the audit log without the token", async () => {
    const { auth, dir } = await authority();
    const minted = await auth.mint({ tenant: 3n }, "admin-api");
    await auth.rotate("admin-api");
    await auth.revokeToken(minted.tokenId, "admin-api");
    const text = readFileSync(join(dir, "audit.jsonl"), "utf8");
    expect(text).not.toContain(minted.token);
    expect(
      text
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l).what),
    ).toEqual(["create_root_key", "mint", "rotate", "revoke_token"]);
  });

  it("keeps one dev capability across restarts of the same data dir", async () => {
    const { auth, dir } = await authority();
    const first = await auth.devCapability();
    expect(first.minted).toBe(true);
    expect(readFileSync(join(dir, "dev.cap"), "utf8").trim()).toBe(first.token);
    const again = await auth.devCapability();
    expect(again).toMatchObject({ minted: false, token: first.token });
    await auth.revokeToken(inspectToken(decodeToken(first.token)).tokenId, "test");
    expect((await auth.devCapability()).minted).toBe(true);
  });
});

describe("revocations shared through Redis", () => {
  let redis: RedisProcess;

  it("a token revoked on node A is refused on node B within 2 s", async () => {
    redis = await startRedis();
    cleanups.push(() => redis.stop());
    // Nodes of one cluster share the root key file; each keeps its own revocation store.
    const a = await authority({ redisUrl: redis.url }, undefined, "node-a");
    const b = await authority({ redisUrl: redis.url }, undefined, "node-b", a.dir);
    const minted = await a.auth.mint({ tenant: 9n }, "test");
    const token = decodeToken(minted.token);
    const onB = () => reason(() => b.auth.verify(token, { tenant: 9n, app: 1 }));
    expect(onB()).toBe("accepted");
    const started = Date.now();
    await a.auth.revokeToken(minted.tokenId, "test");
    while (onB() === "accepted" && Date.now() - started < 2000) await new Promise((r) => setTimeout(r, 10));
    expect(onB()).toBe("401 cap_revoked");
    expect(b.auth.revSeq).toBe(1);
  });
});
