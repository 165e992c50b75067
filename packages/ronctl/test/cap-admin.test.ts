import { decodeToken, inspectToken } from "@omnigate/caps";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CapsNode, startCapsNode } from "./support/caps-node.js";
import { ronctl } from "./support/run.js";

// One node for the file: each test mints its own tokens, so the order of tests does not matter
// except where a test says so (rotation changes the current key).
let node: CapsNode;
beforeAll(async () => {
  node = await startCapsNode();
});
afterAll(async () => {
  await node?.stop();
});

/** Runs `ronctl cap <args>` against the test node, reading the admin token from its data dir. */
function cap(args: string[]) {
  return ronctl(["cap", ...args, "--admin", node.url, "--data-dir", node.dataDir]);
}

async function mint(args: string[]): Promise<string> {
  const result = await cap(["mint", ...args]);
  expect(result.code, result.stderr).toBe(0);
  return result.stdout.trim();
}

const TENANT = "0x0000000000000000000000000000002a";

// Each command is a child process running the TypeScript sources: slow on a loaded machine.
describe("ronctl cap against a node's admin API", { timeout: 120_000 }, () => {
  it("mints through the node: the token alone on stdout, a summary on stderr, a token the node accepts", async () => {
    const result = await cap([
      "mint",
      "--tenant",
      "2a",
      "--apps",
      "0x0101,0x0201",
      "--ops",
      "mailbox.send,echo.call",
      "--topics",
      "chat/",
      "--ttl",
      "1h",
      "--rps",
      "10",
      "--bytes",
      "65536",
    ]);
    expect(result.code, result.stderr).toBe(0);
    const token = result.stdout.trim();
    expect(result.stdout).toBe(`${token}\n`);
    const seen = inspectToken(decodeToken(token));
    expect(seen.keyId).toBe("k1");
    expect(seen.caveats.slice(0, 4)).toEqual([
      `tenant = ${TENANT}`,
      "apps = 0x0101,0x0201",
      "ops = mailbox.send,echo.call",
      "topics ^= chat/",
    ]);
    const expires = Number(/^expires < (\d+)$/.exec(seen.caveats[4] ?? "")?.[1]);
    const now = Math.floor(Date.now() / 1000);
    expect(expires).toBeGreaterThan(now + 3500);
    expect(expires).toBeLessThanOrEqual(now + 3600);
    expect(seen.caveats.slice(5)).toEqual(["rps <= 10", "bytes <= 65536"]);
    // The node's own verifier accepts it: the token is the node's, not a local imitation.
    expect(() =>
      node.authority.verifier.verify(decodeToken(token), {
        tenant: 0x2an,
        app: 0x0201,
        op: "mailbox.send",
        topic: "chat/x",
      }),
    ).not.toThrow();
    expect(result.stderr).toContain(`minted by ${node.url}`);
    expect(result.stderr).toContain(`tenant    ${TENANT}`);
    expect(result.stderr).toContain(`key id    k1`);
    expect(result.stderr).toContain(`token id  ${seen.tokenId}`);
    expect(result.stderr).toMatch(/expires {3}\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(in (59m \d+s|1h)\)/);
    expect(result.stderr).toContain("          ops = mailbox.send,echo.call");
  });

  it("mint → inspect → verify: valid, and refused for another tenant or app with the node's exact reason", async () => {
    const token = await mint([
      "--tenant",
      "0x2a",
      "--apps",
      "0x0201",
      "--ops",
      "mailbox.send",
      "--ttl",
      "30m",
    ]);
    const tokenId = inspectToken(decodeToken(token)).tokenId;

    // Independent commands run side by side: each is a child process.
    const [inspected, ok, otherTenant, otherApp] = await Promise.all([
      ronctl(["cap", "inspect", token]),
      cap(["verify", token, "--app", "0x0201", "--op", "mailbox.send"]),
      cap(["verify", token, "--tenant", "0x2b"]),
      cap(["verify", token, "--app", "0x0301", "--json"]),
    ]);
    expect(inspected.code).toBe(0);
    expect(inspected.stdout).toContain(`tenant    ${TENANT}`);
    expect(inspected.stdout).toContain(`token id  ${tokenId}`);
    expect(inspected.stdout).toContain("epoch     0");
    expect(inspected.stdout).toContain("caveats   tenant = ");
    expect(inspected.stdout).toContain("          apps = 0x0201");

    expect(ok.stderr).toBe("");
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe(
      `valid: token ${tokenId} (key k1) for tenant ${TENANT}, app 0x0201, op mailbox.send; checked by node ${node.url}\n`,
    );

    expect(otherTenant.code).toBe(1);
    expect(otherTenant.stdout).toBe("");
    expect(otherTenant.stderr).toContain(
      `ronctl: refused (tenant_mismatch): token is for tenant ${TENANT}, the request names 0x0000000000000000000000000000002b`,
    );

    expect(otherApp.code).toBe(1);
    expect(JSON.parse(otherApp.stdout)).toEqual({
      ok: false,
      reason: "forbidden",
      message: "token does not allow app 0x0301",
      checked_by: `node ${node.url}`,
      request: { tenant: TENANT, app: "0x0301", op: "mailbox.send" },
      token_id: tokenId,
      key_id: "k1",
    });
  });

  it("attenuates locally; the node refuses the narrowed token what its caveat forbids and still allows the rest", async () => {
    const token = await mint(["--tenant", "0x2a", "--ops", "mailbox.send,mailbox.recv", "--topics", "chat/"]);
    const narrowed = await ronctl([
      "cap",
      "attenuate",
      token,
      "--caveat",
      "topics ^= chat/room-7",
      "--ops",
      "mailbox.recv",
    ]);
    expect(narrowed.code, narrowed.stderr).toBe(0);
    const small = narrowed.stdout.trim();
    expect(narrowed.stderr).toContain("added 2 caveats");
    expect(inspectToken(decodeToken(small)).caveats.slice(-2)).toEqual([
      "topics ^= chat/room-7",
      "ops = mailbox.recv",
    ]);

    // The original still may send to another room; the narrowed one may not.
    const [wide, otherRoom, send, allowed] = await Promise.all([
      cap(["verify", token, "--op", "mailbox.send", "--topic", "chat/room-8"]),
      cap(["verify", small, "--op", "mailbox.recv", "--topic", "chat/room-8"]),
      cap(["verify", small, "--op", "mailbox.send", "--topic", "chat/room-7"]),
      cap(["verify", small, "--op", "mailbox.recv", "--topic", "chat/room-7/x"]),
    ]);
    expect(wide.code, wide.stderr).toBe(0);
    expect(otherRoom.code).toBe(1);
    expect(otherRoom.stderr).toContain(
      'ronctl: refused (forbidden): token is limited to topics starting with "chat/room-7"',
    );
    expect(send.code).toBe(1);
    expect(send.stderr).toContain("ronctl: refused (forbidden): token does not allow op mailbox.send");
    expect(allowed.code, allowed.stderr).toBe(0);
  });

  it("revokes by token id: the node then says cap_revoked; list-revoked --since shows the diff", async () => {
    const before = node.authority.revSeq;
    const [token, mintedJson] = await Promise.all([
      mint(["--tenant", "0x77"]),
      cap(["mint", "--tenant", "0x77", "--json"]),
    ]);
    expect(mintedJson.code, mintedJson.stderr).toBe(0);
    const minted = JSON.parse(mintedJson.stdout) as {
      token: string;
      token_id: string;
      key_id: string;
      tenant: string;
    };
    const other = minted.token;
    expect(minted).toMatchObject({
      token_id: inspectToken(decodeToken(other)).tokenId,
      key_id: "k1",
      tenant: "0x00000000000000000000000000000077",
      epoch: 0,
      expires_at: null,
    });
    const tokenId = inspectToken(decodeToken(token)).tokenId;

    const revoked = await cap(["revoke", "--token-id", tokenId]);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toBe(`revoked token ${tokenId}; rev_seq is now ${before + 1}\n`);

    const [refused, untouched] = await Promise.all([cap(["verify", token]), cap(["verify", other])]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`ronctl: refused (cap_revoked): token ${tokenId} has been revoked`);
    expect(untouched.code, untouched.stderr).toBe(0);

    const byTenant = await cap(["revoke", "--tenant", "77", "--json"]);
    expect(byTenant.code, byTenant.stderr).toBe(0);
    expect(JSON.parse(byTenant.stdout)).toEqual({
      tenant: "0x00000000000000000000000000000077",
      rev_seq: before + 2,
    });
    const otherRefused = await cap(["verify", other]);
    expect(otherRefused.code).toBe(1);
    expect(otherRefused.stderr).toContain("refused (cap_revoked)");

    const diff = await cap(["list-revoked", "--since", String(before), "--json"]);
    expect(diff.code, diff.stderr).toBe(0);
    const answer = JSON.parse(diff.stdout) as {
      rev_seq: number;
      revocations: Array<Record<string, unknown>>;
    };
    expect(answer.rev_seq).toBe(before + 2);
    expect(answer.revocations.map(({ at: _, ...r }) => r)).toEqual([
      { seq: before + 1, kind: "token", token_id: tokenId },
      { seq: before + 2, kind: "tenant_epoch", tenant: "0x00000000000000000000000000000077", epoch: 1 },
    ]);
    const later = await cap(["list-revoked", "--since", String(before + 1)]);
    expect(later.code).toBe(0);
    expect(later.stdout).toMatch(
      new RegExp(
        `^rev_seq ${before + 2}; 1 revocation after ${before + 1}\\n +${before + 2}  \\S+Z  tenant 0x0+77: tokens minted before epoch 1\\n$`,
      ),
    );
  });

  it("rotates: keys lists the new current key and the old one retiring; tokens under the old key still verify", async () => {
    const old = await mint(["--tenant", "0x5"]);
    const rotated = await cap(["rotate", "--json"]);
    expect(rotated.code, rotated.stderr).toBe(0);
    const r = JSON.parse(rotated.stdout) as { key_id: string; retiring: string; retires_at: string };
    expect(r.retiring).toBe("k1");
    expect(r.key_id).toBe("k2");
    const graceLeft = Date.parse(r.retires_at) - Date.now();
    expect(graceLeft).toBeGreaterThan(9 * 60_000);
    expect(graceLeft).toBeLessThanOrEqual(10 * 60_000);

    const [keys, keysJsonRun, fresh, oldStillValid] = await Promise.all([
      cap(["keys"]),
      cap(["keys", "--json"]),
      mint(["--tenant", "0x5"]),
      cap(["verify", old]),
    ]);
    expect(keys.code, keys.stderr).toBe(0);
    const lines = keys.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(
      new RegExp(`^k1 +created \\S+Z  retiring ${r.retires_at} \\(in (9m \\d+s|10m)\\)$`),
    );
    expect(lines[1]).toMatch(/^k2 +created \S+Z {2}current$/);
    const keysJson = JSON.parse(keysJsonRun.stdout) as { keys: Array<{ id: string; current: boolean }> };
    expect(keysJson.keys.map((k) => [k.id, k.current])).toEqual([
      ["k1", false],
      ["k2", true],
    ]);

    expect(inspectToken(decodeToken(fresh)).keyId).toBe("k2");
    expect(oldStillValid.code, oldStillValid.stderr).toBe(0);
  });
});
