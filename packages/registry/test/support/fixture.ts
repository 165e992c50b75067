import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RegistryEntry, signEntry } from "../../src/index.js";

/** A freshly generated owner key, as the files `ronctl registry keygen` writes would hold it. */
export interface OwnerKey {
  id: string;
  privateKey: KeyObject;
  privatePem: string;
  publicPem: string;
}

export function ownerKey(id: string): OwnerKey {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return {
    id,
    privateKey,
    privatePem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    publicPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
  };
}

export type UnsignedEntry = Omit<RegistryEntry, "signature">;

/** A well-formed entry for an app at 0x1001; override any field. */
export function appEntry(overrides: Partial<UnsignedEntry> = {}): UnsignedEntry {
  return {
    id: "0x1001",
    name: "chat",
    owner: "Acme Ltd",
    contact: "registry@acme.example",
    spec: "https://acme.example/chat-protocol",
    status: "review",
    created: "2026-11-26",
    key: "acme",
    ...overrides,
  };
}

export function signed(entry: UnsignedEntry, key: OwnerKey): RegistryEntry {
  return { ...entry, signature: signEntry(entry, key.privateKey) };
}

/**
 * A registry in a temp dir: `app_proto_ids.json` and `keys/` with the public halves of a
 * project key (`omnigate-core`) and an app owner's key (`acme`), both fresh.
 */
export class RegistryFixture {
  readonly dir = mkdtempSync(join(tmpdir(), "omnigate-registry-"));
  readonly file = join(this.dir, "app_proto_ids.json");
  readonly keysDir = join(this.dir, "keys");
  readonly core = ownerKey("omnigate-core");
  readonly acme = ownerKey("acme");

  constructor() {
    mkdirSync(this.keysDir);
    this.addPublicKey(this.core);
    this.addPublicKey(this.acme);
  }

  addPublicKey(key: OwnerKey): void {
    writeFileSync(join(this.keysDir, `${key.id}.pub.pem`), key.publicPem);
  }

  /** A valid registry: control signed by the project key, one app signed by its owner. */
  validEntries(): [control: RegistryEntry, app: RegistryEntry] {
    return [
      signed(
        appEntry({
          id: "0x0000",
          name: "control",
          owner: "Omnigate project",
          spec: "specs/oap-1.md#8-hello",
          key: "omnigate-core",
        }),
        this.core,
      ),
      signed(appEntry(), this.acme),
    ];
  }

  write(entries: unknown[]): string {
    writeFileSync(
      this.file,
      `${JSON.stringify({ $schema: "./app_proto_ids.schema.json", entries }, null, 2)}\n`,
    );
    return this.file;
  }

  /** Writes any file into the fixture (a private key file, a schema copy, ...). */
  writeFile(relative: string, text: string): string {
    const path = join(this.dir, relative);
    writeFileSync(path, text);
    return path;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
