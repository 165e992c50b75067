import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { keyPairMatches, readPrivateKey, readPublicKey } from "@omnigate/registry";
import { afterEach, describe, expect, it } from "vitest";
import { tempDir } from "../../../testing/support/temp-dir.js";
import { ronctl } from "./support/run.js";

const dirs: Array<{ remove: () => void }> = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});

function dir(): string {
  const d = tempDir("omnigate-keygen-");
  dirs.push(d);
  return d.path;
}

describe("ronctl registry keygen", () => {
  it("writes a matching Ed25519 pair, the private key with mode 0600 in a 0700 directory", async () => {
    const out = join(dir(), "new", "keys");
    const result = await ronctl(["registry", "keygen", "--out", out, "--name", "acme-chat"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const privateFile = join(out, "acme-chat.key.pem");
    const publicFile = join(out, "acme-chat.pub.pem");
    expect(statSync(privateFile).mode & 0o777).toBe(0o600);
    expect(statSync(out).mode & 0o777).toBe(0o700);
    const publicMode = statSync(publicFile).mode & 0o777;
    expect(publicMode & 0o600).toBe(0o600);
    expect(publicMode & 0o022).toBe(0);
    const privateKey = readPrivateKey(readFileSync(privateFile));
    expect(keyPairMatches(privateKey, readPublicKey(readFileSync(publicFile)))).toBe(true);
    expect(result.stdout).toContain(`wrote private key ${privateFile} (mode 0600`);
    const fingerprint = createHash("sha256")
      .update(readPublicKey(readFileSync(publicFile)).export({ type: "spki", format: "der" }))
      .digest("hex");
    expect(result.stdout).toContain(`fingerprint       ${fingerprint} (SHA-256 of the public key`);
    expect(result.stdout).toContain("next: copy the public key to registry/keys/acme-chat.pub.pem");
    expect(result.stdout).toContain(`npm run ronctl -- registry sign --key ${privateFile} --id <your id>`);
  });

  it("never overwrites an existing key", async () => {
    const out = dir();
    const existing = join(out, "acme.key.pem");
    writeFileSync(existing, "the only copy\n");
    const result = await ronctl(["registry", "keygen", "--out", out, "--name", "acme"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`ronctl: ${existing} already exists; keygen never overwrites a key\n`);
    expect(readFileSync(existing, "utf8")).toBe("the only copy\n");
    expect(existsSync(join(out, "acme.pub.pem"))).toBe(false);
  });

  it("refuses to write a private key into the registry's key directory", async () => {
    const keys = dir();
    const result = await ronctl(["registry", "keygen", "--out", keys, "--name", "acme", "--keys", keys]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("refusing to write a private key into the registry's key directory");
    expect(existsSync(join(keys, "acme.key.pem"))).toBe(false);
  });

  it("refuses a name that cannot be a key id", async () => {
    const out = dir();
    const result = await ronctl(["registry", "keygen", "--out", out, "--name", "../Acme"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      '--name must be a key id of lowercase letters, digits and dashes (2–63), got "../Acme"',
    );
  });
});
