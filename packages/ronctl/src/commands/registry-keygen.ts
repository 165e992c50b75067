import { chmodSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import {
  generateOwnerKeyPair,
  KEY_ID_PATTERN,
  PUBLIC_KEY_SUFFIX,
  publicKeyFingerprint,
  readPublicKey,
} from "@omnigate/registry";
import { Command } from "commander";
import { CommandRefused } from "../errors.js";
import { DEFAULT_REGISTRY_FILE, keysDirFor } from "./defaults.js";

/** Suffix of the private half that `keygen` writes; never commit it. */
export const PRIVATE_KEY_SUFFIX = ".key.pem";

interface KeygenOptions {
  out: string;
  name: string;
  keys: string;
}

export function keygenCommand(): Command {
  return new Command("keygen")
    .description("Write a new Ed25519 owner key pair: <name>.key.pem (mode 0600) and <name>.pub.pem.")
    .requiredOption("--out <dir>", "where to write the pair; keep it outside the repository")
    .requiredOption("--name <key id>", "the key id entries will name, e.g. acme-chat")
    .option(
      "--keys <dir>",
      "the registry's public key directory, which must not receive a private key",
      keysDirFor(DEFAULT_REGISTRY_FILE, undefined),
    )
    .action((opts: KeygenOptions) => {
      const { privateFile, publicFile, fingerprint } = writeKeyPair(opts);
      process.stdout.write(
        `wrote private key ${privateFile} (mode 0600: keep it secret, never commit it)\n` +
          `wrote public key  ${publicFile}\n` +
          `fingerprint       ${fingerprint} (SHA-256 of the public key; reviewers ask you to confirm it)\n` +
          `next: copy the public key to ${join(opts.keys, `${opts.name}${PUBLIC_KEY_SUFFIX}`)}, set "key": "${opts.name}" ` +
          `on your entry, then sign it:\n` +
          `  npm run ronctl -- registry sign --key ${privateFile} --id <your id>\n`,
      );
    });
}

function writeKeyPair(opts: KeygenOptions): { privateFile: string; publicFile: string; fingerprint: string } {
  if (!new RegExp(KEY_ID_PATTERN).test(opts.name)) {
    throw new CommandRefused(
      `--name must be a key id of lowercase letters, digits and dashes (2–63), got "${opts.name}"`,
    );
  }
  if (resolve(opts.out) === resolve(opts.keys)) {
    throw new CommandRefused(
      `refusing to write a private key into the registry's key directory ${opts.keys}`,
    );
  }
  const privateFile = join(opts.out, `${opts.name}${PRIVATE_KEY_SUFFIX}`);
  const publicFile = join(opts.out, `${opts.name}${PUBLIC_KEY_SUFFIX}`);
  for (const file of [privateFile, publicFile]) {
    if (existsSync(file)) throw new CommandRefused(`${file} already exists; keygen never overwrites a key`);
  }
  mkdirSync(opts.out, { recursive: true, mode: 0o700 });
  const pair = generateOwnerKeyPair();
  // "wx" fails rather than follow a file that appeared since the check above.
  writeFileSync(privateFile, pair.privateKeyPem, { mode: 0o600, flag: "wx" });
  chmodSync(privateFile, 0o600);
  writeFileSync(publicFile, pair.publicKeyPem, { mode: 0o644, flag: "wx" });
  return { privateFile, publicFile, fingerprint: publicKeyFingerprint(readPublicKey(pair.publicKeyPem)) };
}
