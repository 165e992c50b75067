import { copyFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type RegistryDocument, readPublicKey, verifyEntrySignature } from "@omnigate/registry";
import { afterEach, describe, expect, it } from "vitest";
import { appEntry, RegistryFixture } from "../../registry/test/support/fixture.js";
import { ronctl } from "./support/run.js";

const fixtures: RegistryFixture[] = [];
afterEach(() => {
  for (const f of fixtures.splice(0)) f.remove();
});

function fixture(): RegistryFixture {
  const f = new RegistryFixture();
  fixtures.push(f);
  return f;
}

const verifyArgs = (f: RegistryFixture) => ["registry", "verify", "--file", f.file, "--keys", f.keysDir];

describe("ronctl registry sign", () => {
  it("signs a new owner's entry with a key from keygen, and verify then passes (round trip)", async () => {
    const f = fixture();
    const keygen = await ronctl(["registry", "keygen", "--out", join(f.dir, "private"), "--name", "newco"]);
    expect(keygen.code).toBe(0);
    copyFileSync(join(f.dir, "private", "newco.pub.pem"), join(f.keysDir, "newco.pub.pem"));
    const written = [
      ...f.validEntries(),
      { ...appEntry({ id: "0x2a00", name: "newco-app", key: "newco" }), signature: "" },
    ];
    f.write(written);

    const before = await ronctl(verifyArgs(f));
    expect(before.code).toBe(1);
    expect(before.stderr).toContain('entry 2 (0x2a00 newco-app): schema: field "signature"');

    const sign = await ronctl([
      ...["registry", "sign", "--key", join(f.dir, "private", "newco.key.pem"), "--id", "0x2A00"],
      ...["--file", f.file, "--keys", f.keysDir],
    ]);
    expect(sign.stderr).toBe("");
    expect(sign.code).toBe(0);
    expect(sign.stdout).toBe(`signed entry 0x2a00 (newco-app) in ${f.file} with key "newco"\n`);

    const after = await ronctl(verifyArgs(f));
    expect(after.stderr).toBe("");
    expect(after.code).toBe(0);
    const document = JSON.parse(readFileSync(f.file, "utf8")) as RegistryDocument;
    const entry = document.entries[2];
    if (!entry) throw new Error("entry 2 is gone");
    expect(verifyEntrySignature(entry, readPublicKey(readFileSync(join(f.keysDir, "newco.pub.pem"))))).toBe(
      true,
    );
    // The other entries and the $schema pointer are kept as they were.
    expect(document.$schema).toBe("./app_proto_ids.schema.json");
    expect(document.entries.slice(0, 2)).toEqual(written.slice(0, 2));
  });

  it("re-signs an edited entry so that verify passes again", async () => {
    const f = fixture();
    const [control, app] = f.validEntries();
    f.write([control, { ...app, status: "final" }]);
    expect((await ronctl(verifyArgs(f))).stderr).toContain("bad_signature");
    const privateKey = f.writeFile("acme.key.pem", f.acme.privatePem);
    const sign = await ronctl([
      "registry",
      "sign",
      "--key",
      privateKey,
      "--id",
      "0x1001",
      "--file",
      f.file,
      "--keys",
      f.keysDir,
    ]);
    expect(sign.code).toBe(0);
    expect((await ronctl(verifyArgs(f))).code).toBe(0);
  });

  it("refuses a private key that is not the entry's key, and leaves the file untouched", async () => {
    const f = fixture();
    f.write(f.validEntries());
    const before = readFileSync(f.file, "utf8");
    const wrongKey = f.writeFile("core.key.pem", f.core.privatePem);
    const sign = await ronctl([
      "registry",
      "sign",
      "--key",
      wrongKey,
      "--id",
      "0x1001",
      "--file",
      f.file,
      "--keys",
      f.keysDir,
    ]);
    expect(sign.code).toBe(1);
    expect(sign.stdout).toBe("");
    expect(sign.stderr).toContain(
      `ronctl: the private key ${wrongKey} is not the key "acme" that entry 0x1001 names`,
    );
    expect(readFileSync(f.file, "utf8")).toBe(before);
  });

  it("refuses an id the registry does not list", async () => {
    const f = fixture();
    f.write(f.validEntries());
    const key = f.writeFile("acme.key.pem", f.acme.privatePem);
    const sign = await ronctl([
      "registry",
      "sign",
      "--key",
      key,
      "--id",
      "0x1abc",
      "--file",
      f.file,
      "--keys",
      f.keysDir,
    ]);
    expect(sign.code).toBe(1);
    expect(sign.stderr).toBe(`ronctl: ${f.file} has no entry with id 0x1abc\n`);
  });

  it("refuses to sign an entry that breaks the schema", async () => {
    const f = fixture();
    const [control, app] = f.validEntries();
    f.write([control, { ...app, created: "26/11/2026" }]);
    const before = readFileSync(f.file, "utf8");
    const key = f.writeFile("acme.key.pem", f.acme.privatePem);
    const sign = await ronctl([
      "registry",
      "sign",
      "--key",
      key,
      "--id",
      "0x1001",
      "--file",
      f.file,
      "--keys",
      f.keysDir,
    ]);
    expect(sign.code).toBe(1);
    expect(sign.stderr).toContain("ronctl: entry 0x1001 breaks the registry schema, fix it before signing:");
    expect(sign.stderr).toContain('field "created" must be a calendar date, YYYY-MM-DD (got "26/11/2026")');
    expect(readFileSync(f.file, "utf8")).toBe(before);
  });
});
