import { readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { tempDir } from "../../../testing/support/temp-dir.js";
import { AuditLog } from "../src/auth/audit-log.js";
import { RevocationStore } from "../src/auth/revocations.js";
import { RootKeyRing } from "../src/auth/root-keys.js";

const dirs: Array<{ remove: () => void }> = [];
function dir(): string {
  const d = tempDir();
  dirs.push(d);
  return d.path;
}
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});

describe("RootKeyRing", () => {
  it("creates a first key once, mode 0600, and loads the same key after a restart", async () => {
    const path = join(dir(), "auth");
    const first = await RootKeyRing.open(path);
    expect(first.created).toBe(true);
    expect(statSync(join(path, "root-keys.json")).mode & 0o777).toBe(0o600);
    const again = await RootKeyRing.open(path);
    expect(again.created).toBe(false);
    expect(again.ring.current()).toEqual(first.ring.current());
  });

  it("rotates: the old key stays valid for the grace period, then is refused and dropped", async () => {
    let now = Date.parse("2026-11-26T00:00:00Z");
    const path = join(dir(), "auth");
    const { ring } = await RootKeyRing.open(path, () => now);
    const old = ring.current();
    const rotated = await ring.rotate(10 * 60_000);
    expect(rotated).toMatchObject({ id: "k2", retiring: old.id, retiresAt: "2026-11-26T00:10:00.000Z" });
    expect(ring.current().id).toBe("k2");
    expect(ring.get(old.id)).toEqual(old.key);
    now += 10 * 60_000;
    expect(ring.get(old.id)).toBeUndefined();
    // A restart keeps the rotation; the next one prunes the retired key.
    const reloaded = (await RootKeyRing.open(path, () => now)).ring;
    expect(reloaded.current().id).toBe("k2");
    await reloaded.rotate(1000);
    expect(reloaded.list().map((k) => k.id)).toEqual(["k2", "k3"]);
  });

  it("refuses to start on a file that is not a key ring instead of replacing the keys", async () => {
    const path = dir();
    writeFileSync(join(path, "root-keys.json"), '{"hello": 1}');
    await expect(RootKeyRing.open(path)).rejects.toThrow(/not a root key ring/);
  });
});

describe("RevocationStore", () => {
  const T = 0x42n;

  it("revokes by token id and by tenant epoch with an increasing rev_seq", async () => {
    const store = await RevocationStore.open(undefined);
    expect(store.seq).toBe(0);
    await store.revokeToken("abc");
    expect(store.isRevoked({ tokenId: "abc", tenant: T, epoch: 0 })).toBe(true);
    expect(store.isRevoked({ tokenId: "other", tenant: T, epoch: 0 })).toBe(false);
    await store.revokeTenant(T);
    expect(store.seq).toBe(2);
    expect(store.epochOf(T)).toBe(1);
    expect(store.isRevoked({ tokenId: "other", tenant: T, epoch: 0 })).toBe(true);
    expect(store.isRevoked({ tokenId: "other", tenant: T, epoch: 1 })).toBe(false);
    expect(store.isRevoked({ tokenId: "other", tenant: 0x43n, epoch: 0 })).toBe(false);
    expect(store.since(1).map((r) => r.kind)).toEqual(["tenant_epoch"]);
  });

  it("ignores duplicates and older epochs (what relayed revocations from other nodes are)", async () => {
    const store = await RevocationStore.open(undefined);
    const seen: number[] = [];
    store.onRevoked((r) => seen.push(r.seq));
    expect(await store.apply({ kind: "token", token_id: "x" })).toBeDefined();
    expect(await store.apply({ kind: "token", token_id: "x" })).toBeUndefined();
    await store.apply({ kind: "tenant_epoch", tenant: "0x01", epoch: 3 });
    expect(await store.apply({ kind: "tenant_epoch", tenant: "0x01", epoch: 2 })).toBeUndefined();
    expect(seen).toEqual([1, 2]);
  });

  it("replays its file after a restart and skips a torn last line", async () => {
    const file = join(dir(), "revocations.jsonl");
    const store = await RevocationStore.open(file);
    await store.revokeToken("keep");
    await store.revokeTenant(T);
    writeFileSync(file, `${readFileSync(file, "utf8")}{"seq":3,"kind":"tok`);
    const again = await RevocationStore.open(file);
    expect(again.seq).toBe(2);
    expect(again.isRevoked({ tokenId: "keep", tenant: 0n, epoch: 0 })).toBe(true);
    expect(again.epochOf(T)).toBe(1);
  });
});

describe("AuditLog", () => {
  it("appends one JSON line per action, in order, mode 0600", async () => {
    const file = join(dir(), "auth", "audit.jsonl");
    const log = new AuditLog(file, () => Date.parse("2026-11-26T00:00:00Z"));
    await Promise.all([
      log.record({ who: "admin-api", what: "mint", key_id: "k1", token_id: "t1" }),
      log.record({ who: "admin-api", what: "revoke_token", token_id: "t1" }),
    ]);
    const lines = readFileSync(file, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines).toEqual([
      { at: "2026-11-26T00:00:00.000Z", who: "admin-api", what: "mint", key_id: "k1", token_id: "t1" },
      { at: "2026-11-26T00:00:00.000Z", who: "admin-api", what: "revoke_token", token_id: "t1" },
    ]);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it("a failed append fails its own record only; the next one is written", async () => {
    const root = dir();
    const blocker = join(root, "auth");
    writeFileSync(blocker, "a file where the log's directory should be");
    const log = new AuditLog(join(blocker, "audit.jsonl"));
    await expect(log.record({ who: "node", what: "create_root_key", key_id: "k0" })).rejects.toThrow();
    rmSync(blocker);
    await log.record({ who: "admin-api", what: "mint", key_id: "k1", token_id: "t1" });
    await log.flushed();
    const lines = readFileSync(join(blocker, "audit.jsonl"), "utf8").trim().split("\n");
    expect(lines.map((l) => JSON.parse(l).what)).toEqual(["mint"]);
  });
});
