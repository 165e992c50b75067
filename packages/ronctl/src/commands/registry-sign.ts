import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  formatAppProtoId,
  keyPairMatches,
  PUBLIC_KEY_SUFFIX,
  type RegistryEntry,
  readPrivateKey,
  readPublicKey,
  signEntry,
  validateRegistryDocument,
} from "@omnigate/registry";
import { Command } from "commander";
import { CommandRefused } from "../errors.js";
import { DEFAULT_REGISTRY_FILE, KEYS_OPTION_HELP, keysDirFor } from "./defaults.js";

interface SignOptions {
  key: string;
  id: string;
  file: string;
  keys?: string;
}

export function signCommand(): Command {
  return new Command("sign")
    .description(
      "Sign one entry in place with the owner's private key. Refuses when the key is not the " +
        "public key the entry names, or when the entry breaks the schema.",
    )
    .requiredOption(
      "--key <private.pem>",
      "the owner's Ed25519 private key (PEM, e.g. from `registry keygen`)",
    )
    .requiredOption("--id <id>", "the entry's app_proto_id, e.g. 0x1001")
    .option("--file <file>", "registry file", DEFAULT_REGISTRY_FILE)
    .option("--keys <dir>", KEYS_OPTION_HELP)
    .action((opts: SignOptions) => {
      const message = signInPlace(opts);
      process.stdout.write(`${message}\n`);
    });
}

function signInPlace(opts: SignOptions): string {
  const id = normaliseId(opts.id);
  const document = readJsonObject(opts.file);
  const entries = Array.isArray(document.entries) ? (document.entries as unknown[]) : [];
  const matches = entries.flatMap((entry, index) => (isRecord(entry) && entry.id === id ? [index] : []));
  if (matches.length === 0) throw new CommandRefused(`${opts.file} has no entry with id ${id}`);
  if (matches.length > 1) {
    throw new CommandRefused(
      `${opts.file} has ${matches.length} entries with id ${id} (entries ${matches.join(", ")})`,
    );
  }
  const index = matches[0] as number;
  const entry = entries[index] as Record<string, unknown>;
  if (typeof entry.key !== "string")
    throw new CommandRefused(`entry ${id} has no "key" naming the owner's public key`);

  const publicKeyFile = join(keysDirFor(opts.file, opts.keys), `${entry.key}${PUBLIC_KEY_SUFFIX}`);
  const publicKey = readKey(
    publicKeyFile,
    readPublicKey,
    `the public key "${entry.key}" named by entry ${id}`,
  );
  const privateKey = readKey(opts.key, readPrivateKey, "the private key");
  if (!keyPairMatches(privateKey, publicKey)) {
    throw new CommandRefused(
      `the private key ${opts.key} is not the key "${entry.key}" that entry ${id} names (${publicKeyFile}); ` +
        `sign with that key's private half, or have the entry's "key" changed through review (REGISTRY.md)`,
    );
  }

  const signed: Record<string, unknown> = {
    ...entry,
    signature: signEntry(entry as unknown as RegistryEntry, privateKey),
  };
  const violations = validateRegistryDocument({ entries: [signed] });
  if (violations.length > 0) {
    const list = violations.map((v) => `  ${v.message}`).join("\n");
    throw new CommandRefused(`entry ${id} breaks the registry schema, fix it before signing:\n${list}`);
  }
  entries[index] = signed;
  writeAtomically(opts.file, `${JSON.stringify(document, null, 2)}\n`);
  return `signed entry ${id} (${String(entry.name)}) in ${opts.file} with key "${entry.key}"`;
}

function normaliseId(text: string): string {
  if (!/^0x[0-9a-fA-F]{1,4}$/.test(text))
    throw new CommandRefused(`--id must look like 0x1001, got "${text}"`);
  return formatAppProtoId(Number.parseInt(text.slice(2), 16));
}

function readJsonObject(file: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new CommandRefused(`cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!isRecord(parsed)) throw new CommandRefused(`${file} does not hold a JSON object`);
  return parsed;
}

function readKey<T>(file: string, parse: (pem: string) => T, what: string): T {
  let pem: string;
  try {
    pem = readFileSync(file, "utf8");
  } catch (err) {
    throw new CommandRefused(
      `cannot read ${what} at ${file}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  try {
    return parse(pem);
  } catch (err) {
    throw new CommandRefused(
      `${what} at ${file} is unusable: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

/** A crash mid-write leaves the old registry, never half of one. */
function writeAtomically(file: string, text: string): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, text);
  renameSync(temporary, file);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
