import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { REGISTRY_SCHEMA, type RegistryProblem, verifyRegistry } from "../src/index.js";
import { appEntry, ownerKey, RegistryFixture, signed } from "./support/fixture.js";

const COMMITTED = fileURLToPath(new URL("../../../registry/app_proto_ids.json", import.meta.url));

const fixtures: RegistryFixture[] = [];
afterEach(() => {
  for (const f of fixtures.splice(0)) f.remove();
});

function fixture(): RegistryFixture {
  const f = new RegistryFixture();
  fixtures.push(f);
  return f;
}

function verify(f: RegistryFixture, entries: unknown[]) {
  f.write(entries);
  return verifyRegistry({ file: f.file, keysDir: f.keysDir });
}

/** The problems as comparable facts: kind and which entry. */
function facts(problems: RegistryProblem[]) {
  return problems.map((p) => ({ kind: p.kind, index: p.entry?.index, id: p.entry?.id }));
}

describe("verifyRegistry", () => {
  it("passes the committed registry", () => {
    const report = verifyRegistry({ file: COMMITTED });
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.entries.map(({ entry }) => `${entry.id} ${entry.name}`)).toEqual([
      "0x0000 control",
      "0x0101 echo",
      "0x0201 mailbox",
      "0x0301 storage",
      "0x1001 vest",
    ]);
  });

  it("passes a fixture registry with fresh keys", () => {
    const f = fixture();
    const report = verify(f, f.validEntries());
    expect(report.problems).toEqual([]);
    expect(report.keyCount).toBe(2);
    expect(report.entryCount).toBe(2);
  });

  it("reports a tampered entry as a bad signature on that entry", () => {
    const f = fixture();
    const entries = f.validEntries();
    entries[1] = { ...entries[1], owner: "Mallory" };
    const report = verify(f, entries);
    expect(facts(report.problems)).toEqual([{ kind: "bad_signature", index: 1, id: "0x1001" }]);
    expect(report.problems[0]?.message).toMatch(/changed after it was signed.*ronctl registry sign/);
  });

  it("reports a duplicate id on the second claim", () => {
    const f = fixture();
    const entries = [...f.validEntries(), signed(appEntry({ name: "chat-two" }), f.acme)];
    const report = verify(f, entries);
    expect(facts(report.problems)).toEqual([{ kind: "duplicate_id", index: 2, id: "0x1001" }]);
    expect(report.problems[0]?.message).toBe("id 0x1001 is already claimed by entry 1 (chat)");
  });

  it("reports a duplicate name", () => {
    const f = fixture();
    const entries = [...f.validEntries(), signed(appEntry({ id: "0x1002" }), f.acme)];
    const report = verify(f, entries);
    expect(facts(report.problems)).toEqual([{ kind: "duplicate_name", index: 2, id: "0x1002" }]);
  });

  it("reports a private-range id as out of range", () => {
    const f = fixture();
    const entries = [...f.validEntries(), signed(appEntry({ id: "0xf001", name: "lab" }), f.acme)];
    const report = verify(f, entries);
    expect(facts(report.problems)).toEqual([{ kind: "id_out_of_range", index: 2, id: "0xf001" }]);
    expect(report.problems[0]?.message).toMatch(/private\/experimental \(0xF000–0xFFFF\).*never registered/);
  });

  it("reports a platform-range id claimed with an app owner's key", () => {
    const f = fixture();
    const entries = [...f.validEntries(), signed(appEntry({ id: "0x0500", name: "sneaky" }), f.acme)];
    const report = verify(f, entries);
    expect(facts(report.problems)).toEqual([{ kind: "core_id_needs_project_key", index: 2, id: "0x0500" }]);
    expect(report.problems[0]?.message).toMatch(/platform services \(0x0001–0x0FFF\)/);
  });

  it("reports an id that is not 16 bits as a schema problem naming the rule", () => {
    const f = fixture();
    const entries = [...f.validEntries(), signed(appEntry({ id: "0x10000", name: "wide" }), f.acme)];
    const report = verify(f, entries);
    expect(facts(report.problems)).toEqual([{ kind: "schema", index: 2, id: "0x10000" }]);
    expect(report.problems[0]?.message).toBe(
      'field "id" must be 0x followed by four lowercase hex digits, e.g. 0x1001 (got "0x10000")',
    );
  });

  it("reports a signature made by another key than the entry names", () => {
    const f = fixture();
    const entries = f.validEntries();
    entries[1] = signed(appEntry(), ownerKey("acme"));
    const report = verify(f, entries);
    expect(facts(report.problems)).toEqual([{ kind: "bad_signature", index: 1, id: "0x1001" }]);
    expect(report.problems[0]?.message).toMatch(/does not verify with key "acme"/);
  });

  it("reports an entry naming a key the key directory does not hold", () => {
    const f = fixture();
    const stranger = ownerKey("stranger");
    const entries = [
      ...f.validEntries(),
      signed(appEntry({ id: "0x2000", name: "other", key: "stranger" }), stranger),
    ];
    const report = verify(f, entries);
    expect(facts(report.problems)).toEqual([{ kind: "unknown_key", index: 2, id: "0x2000" }]);
    expect(report.problems[0]?.message).toContain(join(f.keysDir, "stranger.pub.pem"));
  });

  it("reports a schema violation with the field and its rule", () => {
    const f = fixture();
    const entries = [
      ...f.validEntries(),
      signed(appEntry({ id: "0x2000", name: "late", created: "2026-02-30" }), f.acme),
    ];
    const report = verify(f, entries);
    expect(facts(report.problems)).toEqual([{ kind: "schema", index: 2, id: "0x2000" }]);
    expect(report.problems[0]?.message).toBe(
      'field "created" must be a calendar date, YYYY-MM-DD (got "2026-02-30")',
    );
  });

  it("reports a key repeated inside an entry, and checks that entry no further", () => {
    const f = fixture();
    const text = JSON.stringify({ entries: f.validEntries() }, null, 2).replace(
      '"id": "0x1001",',
      '"id": "0x1001",\n      "id": "0x1002",',
    );
    f.writeFile("app_proto_ids.json", text);
    const report = verifyRegistry({ file: f.file, keysDir: f.keysDir });
    expect(facts(report.problems)).toEqual([{ kind: "duplicate_key", index: 1, id: "0x1002" }]);
    expect(report.problems[0]?.message).toBe(
      "key /entries/1/id appears more than once in its object; keep one",
    );
    expect(report.entries.map(({ index }) => index)).toEqual([0]);
  });

  it("reports missing and unknown fields", () => {
    const f = fixture();
    const { contact: _dropped, ...withoutContact } = f.validEntries()[1];
    const report = verify(f, [f.validEntries()[0], { ...withoutContact, homepage: "https://x.example" }]);
    expect(report.problems.map((p) => p.message).sort()).toEqual([
      'missing field "contact"',
      'unknown field "homepage"',
    ]);
    expect(report.problems.every((p) => p.kind === "schema" && p.entry?.index === 1)).toBe(true);
  });

  it("reports every problem at once, not only the first", () => {
    const f = fixture();
    const entries = [
      ...f.validEntries(),
      signed(appEntry({ id: "0xf000", name: "private" }), f.acme),
      { ...signed(appEntry({ id: "0x1003", name: "tampered" }), f.acme), status: "final" },
      signed(appEntry({ name: "dupe" }), f.acme),
      { ...appEntry({ id: "0x1004", name: "broken" }), signature: "not base64!" },
    ];
    const report = verify(f, entries);
    expect(facts(report.problems)).toEqual([
      { kind: "schema", index: 5, id: "0x1004" },
      { kind: "id_out_of_range", index: 2, id: "0xf000" },
      { kind: "bad_signature", index: 3, id: "0x1003" },
      { kind: "duplicate_id", index: 4, id: "0x1001" },
    ]);
  });

  it("reports a private key left in the key directory, and the entries that relied on it", () => {
    const f = fixture();
    writeFileSync(join(f.keysDir, "acme.pub.pem"), f.acme.privatePem);
    const report = verify(f, f.validEntries());
    expect(facts(report.problems)).toEqual([
      { kind: "bad_key_file", index: undefined, id: undefined },
      { kind: "unknown_key", index: 1, id: "0x1001" },
    ]);
    expect(report.problems[0]?.message).toMatch(/PRIVATE key/);
    expect(report.problems[1]?.message).toMatch(/not usable/);
  });

  it("reports key files that are not <key id>.pub.pem and ignores non-PEM files", () => {
    const f = fixture();
    writeFileSync(join(f.keysDir, "acme.key.pem"), f.acme.publicPem);
    writeFileSync(join(f.keysDir, "README.md"), "keys live here\n");
    const report = verify(f, f.validEntries());
    expect(facts(report.problems)).toEqual([{ kind: "bad_key_file", index: undefined, id: undefined }]);
    expect(report.problems[0]?.file).toBe(join(f.keysDir, "acme.key.pem"));
  });

  it("reports a published schema that differs from the built-in one", () => {
    const f = fixture();
    const loosened = { ...REGISTRY_SCHEMA, additionalProperties: true };
    f.writeFile("app_proto_ids.schema.json", JSON.stringify(loosened));
    const report = verify(f, f.validEntries());
    expect(facts(report.problems)).toEqual([
      { kind: "schema_file_mismatch", index: undefined, id: undefined },
    ]);
    f.writeFile("app_proto_ids.schema.json", JSON.stringify(REGISTRY_SCHEMA));
    expect(verify(f, f.validEntries()).problems).toEqual([]);
  });

  it("reports a file that is not JSON, a missing file and a missing key directory", () => {
    const f = fixture();
    f.writeFile("app_proto_ids.json", '{"entries": [');
    expect(facts(verifyRegistry({ file: f.file, keysDir: f.keysDir }).problems)).toEqual([
      { kind: "invalid_json", index: undefined, id: undefined },
    ]);
    rmSync(f.file);
    rmSync(f.keysDir, { recursive: true });
    const report = verifyRegistry({ file: f.file, keysDir: f.keysDir });
    expect(report.problems.map((p) => [p.kind, p.file])).toEqual([
      ["unreadable", f.file],
      ["unreadable", f.keysDir],
    ]);
  });
});
