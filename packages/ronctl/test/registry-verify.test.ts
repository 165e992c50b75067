import { afterEach, describe, expect, it } from "vitest";
import { appEntry, ownerKey, RegistryFixture, signed } from "../../registry/test/support/fixture.js";
import { ronctl } from "./support/run.js";

const fixtures: RegistryFixture[] = [];
afterEach(() => {
  for (const f of fixtures.splice(0)) f.remove();
});

/** Writes `entries` into a fresh fixture and runs `ronctl registry verify` on it. */
async function verify(build: (f: RegistryFixture) => unknown[]) {
  const f = new RegistryFixture();
  fixtures.push(f);
  f.write(build(f));
  const result = await ronctl(["registry", "verify", "--file", f.file, "--keys", f.keysDir]);
  return { ...result, file: f.file };
}

describe("ronctl registry verify", () => {
  it("passes the committed registry with its default paths and prints a summary", async () => {
    const result = await ronctl(["registry", "verify"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      "registry OK: registry/app_proto_ids.json: 5 entries (4 control/platform, 1 registered app), " +
        "2 owner keys in registry/keys, every signature verifies\n",
    );
  });

  it("looks for owner keys in keys/ next to --file when --keys is not given", async () => {
    const f = new RegistryFixture();
    fixtures.push(f);
    f.write(f.validEntries());
    const result = await ronctl(["registry", "verify", "--file", f.file]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`2 owner keys in ${f.keysDir}, every signature verifies`);
  });

  it("fails on a tampered entry", async () => {
    const result = await verify((f) => {
      const [control, app] = f.validEntries();
      return [control, { ...app, spec: "https://evil.example/spec" }];
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain(
      `${result.file}: entry 1 (0x1001 chat): bad_signature: signature does not verify with key "acme"`,
    );
    expect(result.stderr).toContain(`registry verify: 1 problem in ${result.file}`);
  });

  it("fails on a duplicate id", async () => {
    const result = await verify((f) => [...f.validEntries(), signed(appEntry({ name: "chat-two" }), f.acme)]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      "entry 2 (0x1001 chat-two): duplicate_id: id 0x1001 is already claimed by entry 1 (chat)",
    );
    expect(result.stderr).toContain("1 problem in");
  });

  it("fails on an id in the private range", async () => {
    const result = await verify((f) => [
      ...f.validEntries(),
      signed(appEntry({ id: "0xf00d", name: "lab" }), f.acme),
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      "entry 2 (0xf00d lab): id_out_of_range: 0xf00d is in the private/experimental (0xF000–0xFFFF) range, " +
        "which is never registered; claim an id in registered apps (0x1000–0xEFFF)",
    );
  });

  it("fails on an id too wide for 16 bits", async () => {
    const result = await verify((f) => [
      ...f.validEntries(),
      signed(appEntry({ id: "0x12345", name: "wide" }), f.acme),
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'entry 2 (0x12345 wide): schema: field "id" must be 0x followed by four lowercase',
    );
  });

  it("fails on a signature by another key than the entry names", async () => {
    const result = await verify((f) => [f.validEntries()[0], signed(appEntry(), ownerKey("acme"))]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'entry 1 (0x1001 chat): bad_signature: signature does not verify with key "acme"',
    );
  });

  it("fails on an entry whose key is not in the key directory", async () => {
    const result = await verify((f) => [
      ...f.validEntries(),
      signed(appEntry({ id: "0x2000", name: "other", key: "stranger" }), ownerKey("stranger")),
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /entry 2 \(0x2000 other\): unknown_key: no public key "stranger": \S+stranger\.pub\.pem/,
    );
  });

  it("fails on a schema violation, naming the field and its rule", async () => {
    const result = await verify((f) => [
      ...f.validEntries(),
      signed(appEntry({ id: "0x2000", name: "other", status: "approved" as never }), f.acme),
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'entry 2 (0x2000 other): schema: field "status" must be one of draft, review, final, deprecated (got "approved")',
    );
  });

  it("prints every problem, one per line", async () => {
    const result = await verify((f) => [
      ...f.validEntries(),
      signed(appEntry({ id: "0xffff", name: "private" }), f.acme),
      signed(appEntry({ name: "again" }), f.acme),
    ]);
    expect(result.code).toBe(1);
    const lines = result.stderr.trimEnd().split("\n");
    expect(lines.map((l) => /: (\w+): /.exec(l.slice(result.file.length))?.[1])).toEqual([
      "id_out_of_range",
      "duplicate_id",
      undefined,
    ]);
    expect(lines.at(-1)).toBe(`registry verify: 2 problems in ${result.file}`);
  });
});
