import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  generateOwnerKeyPair,
  keyPairMatches,
  type RegistryEntry,
  readPrivateKey,
  readPublicKey,
  signEntry,
  verifyEntrySignature,
} from "../src/index.js";
import { appEntry, ownerKey, signed } from "./support/fixture.js";

describe("entry signatures", () => {
  const owner = ownerKey("acme");
  const publicKey = readPublicKey(owner.publicPem);

  it("verify what sign produced (round trip)", () => {
    const entry = signed(appEntry(), owner);
    expect(Buffer.from(entry.signature, "base64")).toHaveLength(64);
    expect(verifyEntrySignature(entry, publicKey)).toBe(true);
  });

  it("fail once any signed field changes", () => {
    const entry = signed(appEntry(), owner);
    for (const field of Object.keys(appEntry()) as Array<keyof RegistryEntry>) {
      const tampered = { ...entry, [field]: `${entry[field]}x` };
      expect(verifyEntrySignature(tampered, publicKey), field).toBe(false);
    }
  });

  it("fail under another owner's key", () => {
    const entry = signed(appEntry(), ownerKey("mallory"));
    expect(verifyEntrySignature(entry, publicKey)).toBe(false);
  });

  it("fail for a signature of the wrong length rather than throw", () => {
    const entry = signed(appEntry(), owner);
    expect(verifyEntrySignature({ ...entry, signature: entry.signature.slice(0, 40) }, publicKey)).toBe(
      false,
    );
    expect(verifyEntrySignature({ ...entry, signature: "" }, publicKey)).toBe(false);
  });

  it("ignore the field order of the entry", () => {
    const entry = signed(appEntry(), owner);
    const reordered = Object.fromEntries(Object.entries(entry).reverse()) as unknown as RegistryEntry;
    expect(verifyEntrySignature(reordered, publicKey)).toBe(true);
  });
});

describe("owner keys", () => {
  it("generateOwnerKeyPair writes PEMs that read back as a matching Ed25519 pair", () => {
    const pair = generateOwnerKeyPair();
    const privateKey = readPrivateKey(pair.privateKeyPem);
    const publicKey = readPublicKey(pair.publicKeyPem);
    expect(keyPairMatches(privateKey, publicKey)).toBe(true);
    expect(keyPairMatches(privateKey, readPublicKey(generateOwnerKeyPair().publicKeyPem))).toBe(false);
    const entry = { ...appEntry(), signature: signEntry(appEntry(), privateKey) };
    expect(verifyEntrySignature(entry, publicKey)).toBe(true);
  });

  it("are refused when they are not Ed25519 or not the expected half", () => {
    const pair = generateOwnerKeyPair();
    expect(() => readPublicKey(pair.privateKeyPem)).toThrow(/private key/);
    expect(() => readPrivateKey(pair.publicKeyPem)).toThrow(/not a PEM private key/);
    expect(() => readPublicKey("garbage")).toThrow(/not a PEM public key/);
    const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
    expect(() => readPublicKey(ec.publicKey.export({ type: "spki", format: "pem" }))).toThrow(/Ed25519/);
  });
});
