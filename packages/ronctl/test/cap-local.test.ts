import { createHmac, randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { decodeToken, decodeV2, encodeToken, encodeV2, inspectToken, mintToken } from "@omnigate/caps";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../../../testing/support/temp-dir.js";
import { ronctl } from "./support/run.js";

// A root key ring laid out like the node's <data dir>/auth/root-keys.json: k1 retired an
// hour ago, k2 retiring in ten minutes, k3 current.
const keys = { k1: randomBytes(32), k2: randomBytes(32), k3: randomBytes(32) };
const dir = tempDir("omnigate-roncap-local-");
const keyFile = join(dir.path, "root-keys.json");
const now = Math.floor(Date.now() / 1000);
const iso = (s: number) => new Date(s * 1000).toISOString();

beforeAll(() => {
  writeFileSync(
    keyFile,
    JSON.stringify({
      current: "k3",
      keys: [
        {
          id: "k1",
          key: keys.k1.toString("base64url"),
          created_at: iso(now - 7200),
          retires_at: iso(now - 3600),
        },
        {
          id: "k2",
          key: keys.k2.toString("base64url"),
          created_at: iso(now - 3600),
          retires_at: iso(now + 600),
        },
        { id: "k3", key: keys.k3.toString("base64url"), created_at: iso(now - 3000) },
      ],
    }),
  );
});
afterAll(() => dir.remove());

function token(keyId: keyof typeof keys, extra: Partial<Parameters<typeof mintToken>[0]> = {}): string {
  return encodeToken(mintToken({ rootKey: keys[keyId], keyId, tenant: 0x2an, ...extra }));
}

describe("ronctl cap without a node", { timeout: 120_000 }, () => {
  it("inspect decodes without verifying: caveats, expiry (time and relative), ids, epoch; --json and stdin", async () => {
    const t = token("k3", {
      apps: [0x0201],
      ops: ["mailbox.send"],
      expiresAt: now + 7200,
      epoch: 3,
      tokenId: "tok-1",
    });
    const expired = token("k3", { expiresAt: now - 3 * 3600, tokenId: "tok-old" });
    const [human, json, fromStdin, old, garbage] = await Promise.all([
      ronctl(["cap", "inspect", t]),
      ronctl(["cap", "inspect", t, "--json"]),
      ronctl(["cap", "inspect", "-"], { input: `${t}\n` }),
      ronctl(["cap", "inspect", expired]),
      ronctl(["cap", "inspect", "not a token"]),
    ]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toBe(
      [
        "tenant    0x0000000000000000000000000000002a",
        `expires   ${iso(now + 7200).replace(".000Z", "Z")} (in ${human.stdout.includes("(in 2h)") ? "2h" : "1h 59m"})`,
        "key id    k3",
        "token id  tok-1",
        "epoch     3",
        "caveats   tenant = 0x0000000000000000000000000000002a",
        "          apps = 0x0201",
        "          ops = mailbox.send",
        `          expires < ${now + 7200}`,
        "(decoded only, not verified: `ronctl cap verify` checks it)",
        "",
      ].join("\n"),
    );
    expect(JSON.parse(json.stdout)).toEqual({
      token_id: "tok-1",
      key_id: "k3",
      epoch: 3,
      tenant: "0x0000000000000000000000000000002a",
      expires_at: now + 7200,
      expired: false,
      caveats: [
        { text: "tenant = 0x0000000000000000000000000000002a", known: true },
        { text: "apps = 0x0201", known: true },
        { text: "ops = mailbox.send", known: true },
        { text: `expires < ${now + 7200}`, known: true },
      ],
      third_party_caveats: 0,
    });
    expect(fromStdin.stdout).toBe(human.stdout);
    expect(old.stdout).toMatch(/expires {3}\S+ \(expired 3h( \d+m)? ago\)/);
    expect(garbage.code).toBe(1);
    expect(garbage.stderr).toBe("ronctl: not a capability token: capability is not base64url text\n");
  });

  it("verify --key-file: valid under the current key and a retiring key in its grace; refused under a retired key", async () => {
    const [current, retiring, retired] = await Promise.all([
      ronctl(["cap", "verify", token("k3", { tokenId: "t3" }), "--key-file", keyFile]),
      ronctl(["cap", "verify", token("k2", { tokenId: "t2" }), "--key-file", keyFile]),
      ronctl(["cap", "verify", token("k1", { tokenId: "t1" }), "--key-file", keyFile, "--json"]),
    ]);
    expect(current.code, current.stderr).toBe(0);
    expect(current.stdout).toBe(
      `valid: token t3 (key k3) for tenant 0x0000000000000000000000000000002a, app 0x0000; checked by key file ${keyFile} (revocations not checked)\n`,
    );
    expect(retiring.code, retiring.stderr).toBe(0);
    expect(retired.code).toBe(1);
    expect(JSON.parse(retired.stdout)).toMatchObject({
      ok: false,
      reason: "unauthenticated",
      message: "token names key k1, which is retired or unknown",
    });
  });

  it("verify --key-file refuses an expired token, a token missing a caveat (MAC), garbage, and what the caveats forbid", async () => {
    const full = decodeV2(decodeToken(token("k3", { apps: [0x0101], topics: "chat/" })));
    const stripped = encodeToken(encodeV2({ ...full, caveats: full.caveats.slice(0, -1) }));
    const [expired, tampered, garbage, app, topic] = await Promise.all([
      ronctl(["cap", "verify", token("k3", { expiresAt: now - 600 }), "--key-file", keyFile]),
      ronctl(["cap", "verify", stripped, "--key-file", keyFile]),
      ronctl(["cap", "verify", "AAAA", "--key-file", keyFile]),
      ronctl(["cap", "verify", token("k3", { apps: [0x0101] }), "--app", "0x0201", "--key-file", keyFile]),
      ronctl(["cap", "verify", token("k3", { topics: "chat/" }), "--topic", "news/1", "--key-file", keyFile]),
    ]);
    expect(expired.code).toBe(1);
    expect(expired.stderr).toMatch(/^ronctl: refused \(cap_expired\): token expired at /);
    expect(tampered.code).toBe(1);
    expect(tampered.stderr).toMatch(/^ronctl: refused \(unauthenticated\): token signature does not verify;/);
    expect(garbage.code).toBe(1);
    expect(garbage.stderr).toMatch(/^ronctl: refused \(unauthenticated\): malformed token/);
    expect(app.code).toBe(1);
    expect(app.stderr).toMatch(/^ronctl: refused \(forbidden\): token does not allow app 0x0201;/);
    expect(topic.code).toBe(1);
    expect(topic.stderr).toMatch(
      /^ronctl: refused \(forbidden\): token is limited to topics starting with "chat\/";/,
    );
  });

  it("attenuate with --caveat and mint-style flags narrows a token that still verifies for what is left", async () => {
    const wide = token("k3", { ops: ["storage.get", "storage.put"] });
    const result = await ronctl([
      "cap",
      "attenuate",
      wide,
      "--caveat",
      "ops = storage.get",
      "--caveat",
      "rps <= 5",
      "--ttl",
      "10m",
      "--json",
    ]);
    expect(result.code, result.stderr).toBe(0);
    const out = JSON.parse(result.stdout) as {
      token: string;
      caveats: Array<{ text: string }>;
      expires_at: number;
    };
    expect(out.caveats.map((c) => c.text).slice(2)).toEqual([
      "ops = storage.get",
      "rps <= 5",
      `expires < ${out.expires_at}`,
    ]);
    expect(out.expires_at - Math.floor(Date.now() / 1000)).toBeGreaterThan(500);
    expect(out.expires_at - Math.floor(Date.now() / 1000)).toBeLessThanOrEqual(600);
    expect(inspectToken(decodeToken(out.token)).tokenId).toBe(inspectToken(decodeToken(wide)).tokenId);

    const [get, put, unknown, none] = await Promise.all([
      ronctl(["cap", "verify", out.token, "--op", "storage.get", "--key-file", keyFile]),
      ronctl(["cap", "verify", out.token, "--op", "storage.put", "--key-file", keyFile]),
      ronctl(["cap", "attenuate", wide, "--caveat", "region = eu"]),
      ronctl(["cap", "attenuate", wide]),
    ]);
    expect(get.code, get.stderr).toBe(0);
    expect(put.code).toBe(1);
    expect(put.stderr).toMatch(/^ronctl: refused \(forbidden\): token does not allow op storage.put;/);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('ronctl: --caveat "region = eu" is outside the caveat grammar');
    expect(none.code).toBe(1);
    expect(none.stderr).toBe(
      "ronctl: give at least one --caveat (or --apps, --ops, --topics, --ttl, --rps, --bytes)\n",
    );
  });

  it("marks a caveat outside the grammar on inspect, and verify refuses the token (fail closed)", async () => {
    // A holder can extend the chain with any caveat text: HMAC(previous signature, caveat).
    const m = decodeV2(decodeToken(token("k3", { tokenId: "odd" })));
    const caveat = new TextEncoder().encode("region = eu");
    const signature = createHmac("sha256", m.signature).update(caveat).digest();
    const odd = encodeToken(encodeV2({ ...m, caveats: [...m.caveats, { id: caveat }], signature }));
    const [inspected, verified] = await Promise.all([
      ronctl(["cap", "inspect", odd]),
      ronctl(["cap", "verify", odd, "--key-file", keyFile]),
    ]);
    expect(inspected.code, inspected.stderr).toBe(0);
    expect(inspected.stdout).toContain(
      "          region = eu   (unknown caveat: every node refuses this token)\n",
    );
    expect(verified.code).toBe(1);
    expect(verified.stderr).toMatch(/^ronctl: refused \(forbidden\): unknown caveat "region = eu"/);
  });

  it("refuses a key file that is not a root key ring", async () => {
    const bad = join(dir.path, "not-a-ring.json");
    writeFileSync(bad, JSON.stringify({ keys: "k1" }));
    const result = await ronctl(["cap", "verify", token("k3"), "--key-file", bad]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`ronctl: ${bad} is not a root key ring`);
  });
});
