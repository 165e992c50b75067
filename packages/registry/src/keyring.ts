import type { KeyObject } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { RegistryProblem } from "./problems.js";
import { KEY_ID_PATTERN } from "./schema.js";
import { readPublicKey } from "./signing.js";

/** Suffix of a public key file in registry/keys: `<key id>.pub.pem`. */
export const PUBLIC_KEY_SUFFIX = ".pub.pem";

/** Owner public keys by key id, plus what was wrong with the key directory. */
export interface Keyring {
  dir: string;
  keys: ReadonlyMap<string, KeyObject>;
  /** Key ids whose file exists but does not hold a usable key. */
  broken: ReadonlySet<string>;
  problems: RegistryProblem[];
}

const KEY_ID = new RegExp(KEY_ID_PATTERN);

/**
 * Reads every `*.pem` in `dir`. Files of other types (a README) are ignored; a `.pem` that is
 * not `<key id>.pub.pem` with an Ed25519 public key inside is a problem — above all a private
 * key, which must never sit in the repository.
 */
export function loadKeyring(dir: string): Keyring {
  const keys = new Map<string, KeyObject>();
  const broken = new Set<string>();
  const problems: RegistryProblem[] = [];
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (err) {
    problems.push({
      kind: "unreadable",
      file: dir,
      message: `cannot read the key directory: ${reason(err)}`,
    });
    return { dir, keys, broken, problems };
  }
  for (const name of names.filter((n) => n.endsWith(".pem"))) {
    const file = join(dir, name);
    const keyId = name.endsWith(PUBLIC_KEY_SUFFIX) ? name.slice(0, -PUBLIC_KEY_SUFFIX.length) : undefined;
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      problems.push({ kind: "unreadable", file, message: `cannot read the key file: ${reason(err)}` });
      if (keyId) broken.add(keyId);
      continue;
    }
    if (/PRIVATE KEY/.test(text)) {
      problems.push({
        kind: "bad_key_file",
        file,
        message:
          "holds a PRIVATE key: remove it from the repository and treat the key as compromised " +
          "(docs/GOVERNANCE.md, key custody); only <key id>.pub.pem public keys belong here",
      });
      if (keyId) broken.add(keyId);
      continue;
    }
    if (keyId === undefined || !KEY_ID.test(keyId)) {
      problems.push({
        kind: "bad_key_file",
        file,
        message: `key files are named <key id>${PUBLIC_KEY_SUFFIX}, with a key id of lowercase letters, digits and dashes`,
      });
      continue;
    }
    try {
      keys.set(keyId, readPublicKey(text));
    } catch (err) {
      broken.add(keyId);
      problems.push({
        kind: "bad_key_file",
        file,
        message: `${reason(err)}; expected an Ed25519 SPKI public key PEM`,
      });
    }
  }
  return { dir, keys, broken, problems };
}

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
